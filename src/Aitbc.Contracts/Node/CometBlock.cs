namespace Aitbc.Contracts.Node;

/// <summary>A block in CometBFT v0.38's shape: header, transactions, evidence and the previous block's commit.</summary>
public sealed record CometBlock(CometHeader Header, CometBlockData Data, CometEvidenceData Evidence, CometCommit LastCommit);
