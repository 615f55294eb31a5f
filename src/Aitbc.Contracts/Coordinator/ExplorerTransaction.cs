namespace Aitbc.Contracts.Coordinator;

/// <summary>A transaction as the explorer lists it: its type, sender and result code.</summary>
public sealed record ExplorerTransaction(string Hash, long Height, string Type, string Sender, int Code, string? Log);
