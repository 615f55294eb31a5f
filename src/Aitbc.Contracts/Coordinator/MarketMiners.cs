namespace Aitbc.Contracts.Coordinator;

/// <summary><c>GET /v1/market/miners</c>: every registered miner as the market shows it.</summary>
public sealed record MarketMiners(IReadOnlyList<MarketMiner> Miners);
