namespace Aitbc.Contracts.Node;

/// <summary>A header and the commit that signs it.</summary>
public sealed record CometSignedHeader(CometHeader Header, CometCommit Commit);
