using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Core.Tests.Transactions;

/// <summary>Builds sample transactions of every type, signed by the test keys.</summary>
internal static class TxBuilder
{
    public const string ChainId = "aitbc-test-1";

    public static TxBody Body(string type) => type switch
    {
        TxType.Transfer => new TransferBody(TestKeys.Bob.Address, new Amount(250_000)),
        TxType.Approve => new ApproveBody(TestKeys.Coordinator.Address, Amount.FromAitbc(10)),
        TxType.RegisterMiner => new RegisterMinerBody(Amount.FromAitbc(100)),
        TxType.Unstake => new UnstakeBody(Amount.ParseAitbc("12.5")),
        TxType.SubmitJob => new SubmitJobBody("job-1", TestKeys.Alice.Address, Hashing.ContentHash("payload"), Amount.FromAitbc(2)),
        TxType.RecordReceipt => new RecordReceiptBody(
            "rcpt-1", "job-1", TestKeys.Miner.Address, new Amount(1_500_000), Hashing.ContentHash("result"),
            Convert.ToBase64String(new byte[64]), "llama3.2:1b", Hashing.ContentHash("prompt"), 1.5, 42),
        TxType.RefundJob => new RefundJobBody("job-1", "miner failed"),
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    public static UnsignedTransaction Unsigned(TxBody body, Ed25519KeyPair? signer = null, ulong nonce = 1, string chainId = ChainId) =>
        new(chainId, (signer ?? TestKeys.Alice).PublicKey, nonce, body);

    public static SignedTransaction Signed(TxBody body, Ed25519KeyPair? signer = null, ulong nonce = 1, string chainId = ChainId) =>
        Unsigned(body, signer, nonce, chainId).Sign(signer ?? TestKeys.Alice);

    public static SignedTransaction Transfer(ulong nonce = 1) => Signed(Body(TxType.Transfer), nonce: nonce);
}
