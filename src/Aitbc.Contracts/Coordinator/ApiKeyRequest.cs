namespace Aitbc.Contracts.Coordinator;

/// <summary><c>POST /v1/admin/keys</c>: a client key names its wallet address, a miner key its public key (base64).</summary>
public sealed record ApiKeyRequest(string Role, string? Address = null, string? MinerPubKey = null);
