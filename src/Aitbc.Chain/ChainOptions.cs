using Aitbc.Core.Crypto;

namespace Aitbc.Chain;

/// <summary>How a chain instance runs: where it stores data, and the key it proposes blocks with (validators only).</summary>
public sealed record ChainOptions
{
    public required string DataDirectory { get; init; }

    /// <summary>The validator's key; null for a follower, which only imports blocks.</summary>
    public Ed25519KeyPair? ValidatorKey { get; init; }

    public long MempoolMaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How long <c>broadcast_tx_commit</c> waits for the block (CometBFT's timeout_broadcast_tx_commit).</summary>
    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
