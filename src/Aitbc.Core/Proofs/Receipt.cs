using System.Text.Json.Serialization;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Core.Proofs;

/// <summary>Where a receipt landed on chain; added after signing and not covered by the signature.</summary>
public sealed record ChainReference(string TxHash, long? BlockHeight);

/// <summary>
/// A job's receipt, signed by the coordinator over the JCS of every field but <c>signature</c> and <c>chain</c>.
/// Amounts are AITBC decimal strings (the REST form); <c>coordinator</c> is the signer's public key in base64.
/// </summary>
public sealed record Receipt(
    string ReceiptId,
    string JobId,
    Address Client,
    Address Miner,
    string Model,
    string PromptHash,
    string ResultHash,
    double ComputeTime,
    long TokensGenerated,
    string PricePerSecond,
    string AmountPaid,
    string MinerSignature,
    string IssuedAt,
    string Coordinator)
{
    public string? Signature { get; init; }

    public ChainReference? Chain { get; init; }

    /// <summary>The miner's proof rebuilt from the receipt's fields; derived, so never serialized (nor signed).</summary>
    [JsonIgnore]
    public MinerProof Proof => new(JobId, Model, PromptHash, ResultHash, ComputeTime, TokensGenerated);

    /// <summary>The signed bytes: JCS of the receipt without <c>signature</c> and <c>chain</c>.</summary>
    public byte[] SigningBytes() => CanonicalJson.Serialize(this with { Signature = null, Chain = null }, WireJson.Options);

    public Receipt SignWith(Ed25519KeyPair coordinatorKey)
    {
        if (!string.Equals(coordinatorKey.PublicKey.Base64, Coordinator, StringComparison.Ordinal))
        {
            throw new ArgumentException("the signing key is not the receipt's coordinator", nameof(coordinatorKey));
        }
        return this with { Signature = Convert.ToBase64String(coordinatorKey.Sign(SigningBytes())) };
    }

    /// <summary>Checks the coordinator's signature (against <paramref name="trustedCoordinator"/> when given) and the miner's proof signature.</summary>
    public ReceiptVerification Verify(Ed25519PublicKey minerKey, Ed25519PublicKey? trustedCoordinator = null)
    {
        if (!Ed25519PublicKey.TryParse(Coordinator, out var coordinatorKey))
        {
            return new(false, "coordinator is not a valid public key");
        }
        if (trustedCoordinator is not null && !trustedCoordinator.Equals(coordinatorKey))
        {
            return new(false, "receipt was signed by a coordinator that is not trusted");
        }
        if (!minerKey.Address.Equals(Miner))
        {
            return new(false, "miner key does not match the receipt's miner address");
        }
        if (!MinerProof.TryDecodeSignature(Signature, out var signature) || !coordinatorKey.Verify(SigningBytes(), signature))
        {
            return new(false, "coordinator signature is invalid");
        }
        if (!Proof.Verify(minerKey, MinerSignature))
        {
            return new(false, "miner signature over the proof is invalid");
        }
        return new(true, "receipt signatures are valid");
    }
}

public sealed record ReceiptVerification(bool Valid, string Reason);
