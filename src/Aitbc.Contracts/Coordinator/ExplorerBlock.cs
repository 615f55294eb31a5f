namespace Aitbc.Contracts.Coordinator;

/// <summary>A block as the explorer lists it.</summary>
public sealed record ExplorerBlock(long Height, string Hash, string Time, int NumTxs, string Proposer);
