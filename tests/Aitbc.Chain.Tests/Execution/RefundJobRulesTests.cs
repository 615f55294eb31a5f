using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class RefundJobRulesTests
{
    private const ulong Escrowed = 30_000;
    private readonly LedgerHarness _ledger = new();

    public RefundJobRulesTests()
    {
        _ledger.RegisterMiner(Miner);
        _ledger.OpenEscrow("job-1", Escrowed);
    }

    [Fact]
    public void Refund_job_returns_the_whole_escrow_to_the_client_and_closes_it()
    {
        var aliceBefore = _ledger.Balance(Alice);

        var result = _ledger.Commit(Coordinator, Bodies.Refund("job-1", "miner failed"));

        Assert.Equal(aliceBefore + Escrowed, _ledger.Balance(Alice));
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Alice));
        var escrow = _ledger.Escrow("job-1")!;
        Assert.Equal(EscrowStatus.Refunded, escrow.Status);
        Assert.Equal(Escrowed, escrow.Refunded!.Value.Micro);
        Assert.Equal("miner failed", escrow.Reason);
        Assert.NotNull(escrow.ClosedHeight);
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
        Assert.Equal(TxType.RefundJob, Assert.Single(result.Events).Type);
    }

    [Fact]
    public void Refund_job_twice_is_refused_because_the_escrow_is_closed()
    {
        _ledger.Commit(Coordinator, Bodies.Refund("job-1"));
        var aliceAfterRefund = _ledger.Balance(Alice);

        _ledger.AssertRefused(Coordinator, Bodies.Refund("job-1"), TxCode.EscrowClosed);

        Assert.Equal(aliceAfterRefund, _ledger.Balance(Alice));
    }

    [Fact]
    public void Refund_job_after_a_receipt_is_refused_because_the_escrow_is_closed()
    {
        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));
        var aliceAfterReceipt = _ledger.Balance(Alice);

        _ledger.AssertRefused(Coordinator, Bodies.Refund("job-1"), TxCode.EscrowClosed);

        Assert.Equal(aliceAfterReceipt, _ledger.Balance(Alice));
        Assert.Equal(EscrowStatus.Paid, _ledger.Escrow("job-1")!.Status);
    }

    [Fact]
    public void Refund_job_for_an_unknown_job_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Refund("job-404"), TxCode.UnknownJob);
    }

    [Fact]
    public void Refund_job_by_a_non_coordinator_is_unauthorized()
    {
        _ledger.AssertRefused(Alice, Bodies.Refund("job-1"), TxCode.Unauthorized);

        Assert.True(_ledger.Escrow("job-1")!.IsOpen);
    }

    [Fact]
    public void Refund_job_with_a_reason_over_the_limit_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Refund("job-1", new string('r', 513)), TxCode.InvalidField);
    }
}
