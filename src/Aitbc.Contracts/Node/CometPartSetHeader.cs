namespace Aitbc.Contracts.Node;

/// <summary>CometBFT's part-set header; a block here is always one part, hashed as the block itself.</summary>
public sealed record CometPartSetHeader(int Total, string Hash);
