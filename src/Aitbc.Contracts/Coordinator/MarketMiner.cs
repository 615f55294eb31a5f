namespace Aitbc.Contracts.Coordinator;

/// <summary>A miner as the market shows it.</summary>
public sealed record MarketMiner(
    string Address,
    IReadOnlyList<string> Models,
    int Capacity,
    int InFlight,
    string PricePerSecond,
    string Stake,
    double Reputation,
    bool Online,
    string LastSeen)
{
    public GpuDescription? Gpu { get; init; }

    public double? GpuUtilization { get; init; }

    /// <summary>Shown to admins only.</summary>
    public string? Endpoint { get; init; }

    public long? JobsCompleted { get; init; }

    public long? JobsFailed { get; init; }
}
