namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/miners/register</c>: where the coordinator pushes assignments and what the miner sells.</summary>
public sealed record MinerRegistration(string Endpoint, IReadOnlyList<string> Models, int Capacity, string PricePerSecond, GpuDescription? Gpu = null);
