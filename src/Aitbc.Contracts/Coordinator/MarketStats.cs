namespace Aitbc.Contracts.Coordinator;

/// <summary>Totals over the marketplace.</summary>
public sealed record MarketStats(
    int MinersOnline,
    int MinersTotal,
    int Capacity,
    int InFlight,
    long JobsTotal,
    IReadOnlyDictionary<string, long> JobsByStatus,
    int QueueDepth,
    string TotalPaid);
