namespace Aitbc.Contracts.Coordinator;

/// <summary>A miner's GPU as it describes itself; absent on a machine without one.</summary>
public sealed record GpuDescription(string Name, long? MemoryTotalMb = null, int? Count = null);
