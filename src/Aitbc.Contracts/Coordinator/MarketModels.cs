namespace Aitbc.Contracts.Coordinator;

/// <summary><c>GET /v1/market/models</c>: every model on offer.</summary>
public sealed record MarketModels(IReadOnlyList<MarketModel> Models);
