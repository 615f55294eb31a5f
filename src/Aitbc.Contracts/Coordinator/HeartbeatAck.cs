namespace Aitbc.Contracts.Coordinator;

/// <summary>The answer to a heartbeat; <c>registered: false</c> tells the miner to register again (coordinator restarted or forgot it).</summary>
public sealed record HeartbeatAck(bool Registered, string Status);
