namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/miners/heartbeat</c>; <c>gpu_utilization</c> (0–100) is left out, not zero, without a GPU.</summary>
public sealed record MinerHeartbeat(IReadOnlyList<string> Models, int InFlight, double? GpuUtilization = null);
