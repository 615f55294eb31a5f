using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;

namespace Aitbc.Chain.Blocks;

/// <summary>A committed block: header, transactions (wire bytes), and the proposer's signature over the header's canonical bytes.</summary>
public sealed record Block(BlockHeader Header, IReadOnlyList<byte[]> Txs, string Signature)
{
    /// <summary>Computed from the header each time, so a copy with another header never carries a stale hash.</summary>
    public string Hash => Header.Hash();

    public long Height => Header.Height;

    public bool VerifySignature(Ed25519PublicKey proposer)
    {
        var signature = new byte[Ed25519KeyPair.SignatureSize];
        return Convert.TryFromBase64String(Signature, signature, out var n) && n == signature.Length
            && proposer.Verify(Header.CanonicalBytes(), signature);
    }
}

/// <summary>A transaction as the chain recorded it: where it landed and how it fared.</summary>
public sealed record IndexedTx(string Hash, long Height, int Index, byte[] Tx, Execution.TxResult Result);
