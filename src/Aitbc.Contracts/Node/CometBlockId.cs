namespace Aitbc.Contracts.Node;

/// <summary>CometBFT's BlockID: the block hash (upper hex) and its part-set header.</summary>
public sealed record CometBlockId(string Hash, CometPartSetHeader Parts)
{
    /// <summary>The id of a block of one part, as this chain's blocks are.</summary>
    public static CometBlockId Of(string hash) => new(hash, new CometPartSetHeader(1, hash));
}
