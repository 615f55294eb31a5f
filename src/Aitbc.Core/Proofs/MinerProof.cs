using Aitbc.Core.Crypto;
using Aitbc.Core.Json;

namespace Aitbc.Core.Proofs;

/// <summary>What a miner signs for a result: <c>{job_id, model, prompt_hash, result_hash, compute_time, tokens_generated}</c>.</summary>
public sealed record MinerProof(string JobId, string Model, string PromptHash, string ResultHash, double ComputeTime, long TokensGenerated)
{
    public byte[] CanonicalBytes() => CanonicalJson.Serialize(this, WireJson.Options);

    /// <summary>Base64 Ed25519 signature over the JCS of the proof.</summary>
    public string Sign(Ed25519KeyPair minerKey) => Convert.ToBase64String(minerKey.Sign(CanonicalBytes()));

    public bool Verify(Ed25519PublicKey minerKey, string? signatureBase64) =>
        TryDecodeSignature(signatureBase64, out var signature) && minerKey.Verify(CanonicalBytes(), signature);

    internal static bool TryDecodeSignature(string? base64, out byte[] signature)
    {
        signature = new byte[Ed25519KeyPair.SignatureSize];
        // Canonical spelling only, as for keys: one signature has one text form.
        return base64 is { Length: 88 } && Convert.TryFromBase64String(base64, signature, out var n) && n == signature.Length
            && string.Equals(Convert.ToBase64String(signature), base64, StringComparison.Ordinal);
    }
}
