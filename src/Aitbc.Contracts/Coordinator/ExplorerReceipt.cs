namespace Aitbc.Contracts.Coordinator;

/// <summary>A receipt as the explorer lists it, with the block its record landed in.</summary>
public sealed record ExplorerReceipt(string ReceiptId, string JobId, string Miner, string Client, string AmountPaid, string? TxHash, long? BlockHeight, string IssuedAt);
