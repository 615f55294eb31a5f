using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Transaction bodies with sensible defaults, amounts in uaitbc.</summary>
internal static class Bodies
{
    public const string Model = "llama3.2:1b";
    public static readonly string PayloadHash = Hashing.ContentHash("payload");
    public static readonly string PromptHash = Hashing.ContentHash("What is the capital of France?");
    public static readonly string ResultHash = Hashing.ContentHash("Paris.");

    public static TransferBody Transfer(Ed25519KeyPair to, ulong micro) => new(to.Address, new Amount(micro));

    public static ApproveBody Approve(Ed25519KeyPair spender, ulong micro) => new(spender.Address, new Amount(micro));

    public static RegisterMinerBody RegisterMiner(ulong stake) => new(new Amount(stake));

    public static UnstakeBody Unstake(ulong micro) => new(new Amount(micro));

    public static SubmitJobBody SubmitJob(string jobId, Ed25519KeyPair client, ulong maxAmount, string? payloadHash = null) =>
        new(jobId, client.Address, payloadHash ?? PayloadHash, new Amount(maxAmount));

    public static RefundJobBody Refund(string jobId, string reason = "no miner available") => new(jobId, reason);

    /// <summary>A receipt whose proof is signed by <paramref name="proofSigner"/> (the miner itself unless given).</summary>
    public static RecordReceiptBody Receipt(string receiptId, string jobId, Ed25519KeyPair miner, ulong amountPaid, Ed25519KeyPair? proofSigner = null)
    {
        var proof = Proof(jobId);
        return new RecordReceiptBody(receiptId, jobId, miner.Address, new Amount(amountPaid), proof.ResultHash,
            proof.Sign(proofSigner ?? miner), proof.Model, proof.PromptHash, proof.ComputeTime, proof.TokensGenerated);
    }

    public static MinerProof Proof(string jobId) => new(jobId, Model, PromptHash, ResultHash, 1.5, 42);
}
