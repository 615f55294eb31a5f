using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class ApproveRulesTests
{
    private readonly LedgerHarness _ledger = new();

    [Fact]
    public void Approve_sets_the_spenders_allowance_without_moving_funds()
    {
        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 300));

        Assert.Equal(300UL, _ledger.Allowance(Alice, Coordinator));
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Alice));
        Assert.Equal(1UL, _ledger.Nonce(Alice));
    }

    [Fact]
    public void Approve_replaces_the_previous_allowance_rather_than_adding_to_it()
    {
        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 300));

        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 100));

        Assert.Equal(100UL, _ledger.Allowance(Alice, Coordinator));
    }

    [Fact]
    public void Approve_of_zero_removes_the_allowance()
    {
        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 300));

        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 0));

        Assert.Equal(0UL, _ledger.Allowance(Alice, Coordinator));
        Assert.DoesNotContain(Coordinator.Address.Value, _ledger.Account(Alice).Allowances.Keys);
    }

    [Fact]
    public void Approve_is_per_spender()
    {
        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 300));
        _ledger.Commit(Alice, Bodies.Approve(Bob, 5));

        Assert.Equal(300UL, _ledger.Allowance(Alice, Coordinator));
        Assert.Equal(5UL, _ledger.Allowance(Alice, Bob));
        Assert.Equal(0UL, _ledger.Allowance(Bob, Coordinator));
    }

    [Fact]
    public void Approve_may_exceed_the_balance()
    {
        _ledger.Commit(Alice, Bodies.Approve(Coordinator, 10 * GenesisBuilder.InitialBalance));

        Assert.Equal(10 * GenesisBuilder.InitialBalance, _ledger.Allowance(Alice, Coordinator));
    }

    [Fact]
    public void Approve_of_self_is_refused()
    {
        var result = _ledger.AssertRefused(Alice, Bodies.Approve(Alice, 300), TxCode.InvalidField);

        Assert.Contains("spender", result.Log, StringComparison.Ordinal);
    }
}
