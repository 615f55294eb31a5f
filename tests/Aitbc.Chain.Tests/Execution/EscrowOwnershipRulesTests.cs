using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

/// <summary>Two coordinators named in genesis: each may close only the escrows it opened.</summary>
public sealed class EscrowOwnershipRulesTests
{
    private const ulong Escrowed = 30_000;

    private readonly LedgerHarness _ledger = new(new GenesisBuilder
    {
        Coordinators = [Coordinator.Address, OtherCoordinator.Address],
        Allocations = [.. new GenesisBuilder().Allocations, GenesisBuilder.Fund(OtherCoordinator)],
    }.Build());

    public EscrowOwnershipRulesTests()
    {
        _ledger.RegisterMiner(Miner);
        _ledger.OpenEscrow("job-1", Escrowed);
    }

    [Fact]
    public void Escrow_records_the_coordinator_that_opened_it()
    {
        Assert.Equal(Coordinator.Address, _ledger.Escrow("job-1")!.Coordinator);
    }

    [Fact]
    public void Record_receipt_by_another_genesis_coordinator_is_unauthorized()
    {
        var before = Balances();

        var result = _ledger.AssertRefused(OtherCoordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000), TxCode.Unauthorized);

        Assert.Contains(Coordinator.Address.Value, result.Log, StringComparison.Ordinal);
        Assert.Equal(before, Balances());
        Assert.True(_ledger.Escrow("job-1")!.IsOpen);
        Assert.Null(_ledger.State.GetReceipt("rcpt-1"));
    }

    [Fact]
    public void Refund_job_by_another_genesis_coordinator_is_unauthorized()
    {
        var before = Balances();

        var result = _ledger.AssertRefused(OtherCoordinator, Bodies.Refund("job-1"), TxCode.Unauthorized);

        Assert.Contains(Coordinator.Address.Value, result.Log, StringComparison.Ordinal);
        Assert.Equal(before, Balances());
        Assert.True(_ledger.Escrow("job-1")!.IsOpen);
    }

    [Fact]
    public void The_opening_coordinator_still_settles_its_escrow()
    {
        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));

        Assert.Equal(EscrowStatus.Paid, _ledger.Escrow("job-1")!.Status);
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
    }

    [Fact]
    public void The_opening_coordinator_still_refunds_its_escrow()
    {
        _ledger.Commit(Coordinator, Bodies.Refund("job-1"));

        Assert.Equal(EscrowStatus.Refunded, _ledger.Escrow("job-1")!.Status);
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Alice));
    }

    [Fact]
    public void The_other_coordinator_settles_the_escrows_it_opened()
    {
        _ledger.Approve(Bob, OtherCoordinator, Escrowed);
        _ledger.Commit(OtherCoordinator, Bodies.SubmitJob("job-2", Bob, Escrowed));

        _ledger.AssertRefused(Coordinator, Bodies.Refund("job-2"), TxCode.Unauthorized);
        _ledger.Commit(OtherCoordinator, Bodies.Receipt("rcpt-2", "job-2", Miner, 1_000));

        Assert.Equal(OtherCoordinator.Address, _ledger.Escrow("job-2")!.Coordinator);
        Assert.Equal(EscrowStatus.Paid, _ledger.Escrow("job-2")!.Status);
    }

    private ulong[] Balances() => [.. new[] { Coordinator, OtherCoordinator, Alice, Bob, Miner }.Select(_ledger.Balance)];
}
