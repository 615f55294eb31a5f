namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>commit</c>: the signed header; every commit this chain serves is canonical.</summary>
public sealed record ResultCommit(CometSignedHeader SignedHeader, bool Canonical);
