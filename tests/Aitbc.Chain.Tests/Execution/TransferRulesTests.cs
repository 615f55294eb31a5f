using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class TransferRulesTests
{
    private readonly LedgerHarness _ledger = new();

    [Fact]
    public void Transfer_moves_the_amount_and_bumps_only_the_senders_nonce()
    {
        var result = _ledger.Commit(Alice, Bodies.Transfer(Bob, 250_000));

        Assert.Equal(TxCode.Ok, result.Code);
        Assert.Equal(GenesisBuilder.InitialBalance - 250_000, _ledger.Balance(Alice));
        Assert.Equal(GenesisBuilder.InitialBalance + 250_000, _ledger.Balance(Bob));
        Assert.Equal(1UL, _ledger.Nonce(Alice));
        Assert.Equal(0UL, _ledger.Nonce(Bob));
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
    }

    [Fact]
    public void Transfer_emits_a_transfer_event_naming_sender_recipient_and_amount()
    {
        var result = _ledger.Commit(Alice, Bodies.Transfer(Bob, 7));

        var e = Assert.Single(result.Events);
        Assert.Equal(TxType.Transfer, e.Type);
        var attributes = e.Attributes.ToDictionary(a => a.Key, a => a.Value);
        Assert.Equal(Alice.Address.Value, attributes["sender"]);
        Assert.Equal(Bob.Address.Value, attributes["recipient"]);
        Assert.Equal("7", attributes["amount"]);
    }

    [Fact]
    public void Transfer_of_the_whole_balance_is_allowed()
    {
        _ledger.Commit(Alice, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance));

        Assert.Equal(0UL, _ledger.Balance(Alice));
        Assert.Equal(2 * GenesisBuilder.InitialBalance, _ledger.Balance(Bob));
    }

    [Fact]
    public void Transfer_to_an_unknown_address_creates_its_account()
    {
        _ledger.Commit(Alice, Bodies.Transfer(Stranger, 10));

        Assert.Equal(10UL, _ledger.Balance(Stranger));
        Assert.Equal(0UL, _ledger.Nonce(Stranger));
    }

    [Fact]
    public void Transfer_beyond_balance_is_refused_and_changes_nothing()
    {
        var result = _ledger.AssertRefused(Alice, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance + 1), TxCode.InsufficientFunds);

        Assert.Contains("insufficient funds", result.Log, StringComparison.Ordinal);
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Alice));
        Assert.Equal(0UL, _ledger.Nonce(Alice));
    }

    [Fact]
    public void Transfer_from_an_empty_account_is_refused()
    {
        _ledger.AssertRefused(Stranger, Bodies.Transfer(Alice, 1), TxCode.InsufficientFunds);
    }

    [Fact]
    public void Transfer_of_zero_is_refused()
    {
        var result = _ledger.AssertRefused(Alice, Bodies.Transfer(Bob, 0), TxCode.InvalidField);

        Assert.Contains("amount", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Transfer_to_self_only_bumps_the_nonce()
    {
        _ledger.Commit(Alice, Bodies.Transfer(Alice, 500));

        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Alice));
        Assert.Equal(1UL, _ledger.Nonce(Alice));
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
    }

    [Fact]
    public void Transfer_to_self_beyond_balance_is_still_refused()
    {
        _ledger.AssertRefused(Alice, Bodies.Transfer(Alice, GenesisBuilder.InitialBalance + 1), TxCode.InsufficientFunds);
    }

    [Fact]
    public void Transfer_near_the_top_of_the_amount_range_moves_exactly_without_overflow()
    {
        var rich = new LedgerHarness(new GenesisBuilder
        {
            Allocations = [GenesisBuilder.Fund(Alice, ulong.MaxValue - 10), GenesisBuilder.Fund(Bob, 10)],
        }.Build());

        rich.Commit(Alice, Bodies.Transfer(Bob, ulong.MaxValue - 10));

        Assert.Equal(0UL, rich.Balance(Alice));
        Assert.Equal(ulong.MaxValue, rich.Balance(Bob));
        Assert.Equal(ulong.MaxValue, rich.Supply.Micro);
    }

    [Fact]
    public void Genesis_whose_allocations_overflow_is_refused_at_open()
    {
        var genesis = new GenesisBuilder
        {
            Allocations = [GenesisBuilder.Fund(Alice, ulong.MaxValue), GenesisBuilder.Fund(Bob, 1)],
        }.Build();
        var options = new ChainOptions { DataDirectory = Path.Combine(Path.GetTempPath(), "aitbc-chain-tests", Guid.NewGuid().ToString("N")) };

        Assert.Throws<OverflowException>(() => Blockchain.Open(options, genesis));
        Assert.False(Directory.Exists(options.DataDirectory), "a refused genesis must not leave a data directory behind");
    }
}
