namespace Aitbc.Contracts.Coordinator;

/// <summary>
/// The answer to a registration. <c>assign_key</c> is the secret the coordinator will present in <c>X-Api-Key</c>
/// when it pushes <c>/v1/jobs/assign</c>; the miner accepts assignments only with it.
/// </summary>
public sealed record MinerRegistered(string MinerId, string Status, string AssignKey, int HeartbeatIntervalSeconds);
