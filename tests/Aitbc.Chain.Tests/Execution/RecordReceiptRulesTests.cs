using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class RecordReceiptRulesTests
{
    private const ulong Escrowed = 30_000;
    private readonly LedgerHarness _ledger = new();

    public RecordReceiptRulesTests()
    {
        _ledger.RegisterMiner(Miner, stake: 5_000);
        _ledger.OpenEscrow("job-1", Escrowed);
    }

    [Fact]
    public void Record_receipt_pays_the_miner_refunds_the_rest_and_closes_the_escrow()
    {
        var aliceBefore = _ledger.Balance(Alice);
        var minerBefore = _ledger.Balance(Miner);
        var tx = _ledger.Tx(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));

        var result = _ledger.Commit(tx);

        Assert.Equal(minerBefore + 12_000, _ledger.Balance(Miner));
        Assert.Equal(aliceBefore + (Escrowed - 12_000), _ledger.Balance(Alice));
        var escrow = _ledger.Escrow("job-1")!;
        Assert.Equal(EscrowStatus.Paid, escrow.Status);
        Assert.False(escrow.IsOpen);
        Assert.Equal("rcpt-1", escrow.ReceiptId);
        Assert.Equal(12_000UL, escrow.Paid!.Value.Micro);
        Assert.Equal(Escrowed - 12_000, escrow.Refunded!.Value.Micro);
        Assert.NotNull(escrow.ClosedHeight);
        var receipt = _ledger.State.GetReceipt("rcpt-1");
        Assert.NotNull(receipt);
        Assert.Equal(Miner.Address, receipt.Miner);
        Assert.Equal(Alice.Address, receipt.Client);
        Assert.Equal(tx.Hash, receipt.TxHash);
        Assert.Equal(Bodies.ResultHash, receipt.ResultHash);
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
        Assert.Equal(TxType.RecordReceipt, Assert.Single(result.Events).Type);
    }

    [Fact]
    public void Record_receipt_paying_the_whole_escrow_refunds_nothing()
    {
        var aliceBefore = _ledger.Balance(Alice);
        var minerBefore = _ledger.Balance(Miner);

        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, Escrowed));

        Assert.Equal(minerBefore + Escrowed, _ledger.Balance(Miner));
        Assert.Equal(aliceBefore, _ledger.Balance(Alice));
        Assert.Equal(0UL, _ledger.Escrow("job-1")!.Refunded!.Value.Micro);
    }

    [Fact]
    public void Record_receipt_paying_nothing_refunds_the_whole_escrow()
    {
        var aliceBefore = _ledger.Balance(Alice);
        var minerBefore = _ledger.Balance(Miner);

        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 0));

        Assert.Equal(minerBefore, _ledger.Balance(Miner));
        Assert.Equal(aliceBefore + Escrowed, _ledger.Balance(Alice));
        Assert.Equal(EscrowStatus.Paid, _ledger.Escrow("job-1")!.Status);
    }

    [Fact]
    public void Record_receipt_does_not_touch_the_miners_stake()
    {
        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));

        Assert.Equal(5_000UL, _ledger.Miner(Miner)!.Stake.Micro);
    }

    [Fact]
    public void Record_receipt_by_a_non_coordinator_is_unauthorized()
    {
        _ledger.AssertRefused(Bob, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000), TxCode.Unauthorized);

        Assert.True(_ledger.Escrow("job-1")!.IsOpen);
    }

    [Fact]
    public void Record_receipt_by_the_miner_itself_is_unauthorized()
    {
        _ledger.AssertRefused(Miner, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000), TxCode.Unauthorized);
    }

    [Fact]
    public void Record_receipt_for_an_unknown_job_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-404", Miner, 1), TxCode.UnknownJob);
    }

    [Fact]
    public void Record_receipt_after_a_refund_is_refused_because_the_escrow_is_closed()
    {
        _ledger.Commit(Coordinator, Bodies.Refund("job-1"));
        var aliceAfterRefund = _ledger.Balance(Alice);

        var result = _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000), TxCode.EscrowClosed);

        Assert.Contains("closed", result.Log, StringComparison.Ordinal);
        Assert.Equal(aliceAfterRefund, _ledger.Balance(Alice));
        Assert.Equal(EscrowStatus.Refunded, _ledger.Escrow("job-1")!.Status);
    }

    [Fact]
    public void Record_receipt_twice_for_one_job_pays_only_once()
    {
        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));
        var minerAfterFirst = _ledger.Balance(Miner);

        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-2", "job-1", Miner, 12_000), TxCode.EscrowClosed);

        Assert.Equal(minerAfterFirst, _ledger.Balance(Miner));
        Assert.Null(_ledger.State.GetReceipt("rcpt-2"));
    }

    [Fact]
    public void Record_receipt_reusing_a_receipt_id_is_refused()
    {
        _ledger.Commit(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000));
        _ledger.OpenEscrow("job-2", 10_000);

        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-2", Miner, 1_000), TxCode.AlreadyExists);

        Assert.True(_ledger.Escrow("job-2")!.IsOpen);
        Assert.Equal("job-1", _ledger.State.GetReceipt("rcpt-1")!.JobId);
    }

    [Fact]
    public void Record_receipt_paying_more_than_the_escrow_is_refused()
    {
        var result = _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, Escrowed + 1), TxCode.InvalidField);

        Assert.Contains("exceeds", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_receipt_for_an_unregistered_miner_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", OtherMiner, 12_000), TxCode.UnknownMiner);
    }

    [Fact]
    public void Record_receipt_with_a_proof_signed_by_another_miners_key_is_refused()
    {
        _ledger.RegisterMiner(OtherMiner);

        var result = _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000, proofSigner: OtherMiner), TxCode.BadProof);

        Assert.Contains("miner_signature", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_receipt_with_a_proof_for_another_job_is_refused()
    {
        var proofForJob2 = Bodies.Receipt("rcpt-1", "job-2", Miner, 12_000).MinerSignature;

        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { MinerSignature = proofForJob2 }, TxCode.BadProof);
    }

    [Fact]
    public void Record_receipt_whose_result_hash_differs_from_the_signed_one_is_refused()
    {
        var body = Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { ResultHash = Hashing.ContentHash("Lyon.") };

        _ledger.AssertRefused(Coordinator, body, TxCode.BadProof);
    }

    [Fact]
    public void Record_receipt_whose_compute_time_differs_from_the_signed_one_is_refused()
    {
        var body = Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { ComputeTime = 99 };

        _ledger.AssertRefused(Coordinator, body, TxCode.BadProof);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64 at all")]
    [InlineData("AAAA")]
    public void Record_receipt_with_a_malformed_miner_signature_is_refused(string signature)
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { MinerSignature = signature }, TxCode.BadProof);
    }

    [Fact]
    public void Record_receipt_with_a_forged_miner_signature_is_refused()
    {
        var forged = Convert.ToBase64String(new byte[64]);

        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { MinerSignature = forged }, TxCode.BadProof);
    }

    [Fact]
    public void Record_receipt_with_a_malformed_result_hash_is_refused()
    {
        var body = Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { ResultHash = Bodies.ResultHash.ToUpperInvariant() };

        var result = _ledger.AssertRefused(Coordinator, body, TxCode.InvalidField);

        Assert.Contains("result_hash", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_receipt_with_a_malformed_prompt_hash_is_refused()
    {
        var body = Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { PromptHash = "1234" };

        _ledger.AssertRefused(Coordinator, body, TxCode.InvalidField);
    }

    [Theory]
    [InlineData("")]
    [InlineData("rcpt 1")]
    public void Record_receipt_with_a_malformed_receipt_id_is_refused(string receiptId)
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt(receiptId, "job-1", Miner, 12_000), TxCode.InvalidField);
    }

    [Fact]
    public void Record_receipt_with_an_empty_model_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { Model = "" }, TxCode.InvalidField);
    }

    [Fact]
    public void Record_receipt_with_negative_metrics_is_refused()
    {
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { ComputeTime = -1 }, TxCode.InvalidField);
        _ledger.AssertRefused(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000) with { TokensGenerated = -1 }, TxCode.InvalidField);
    }
}
