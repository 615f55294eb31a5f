namespace Aitbc.Contracts.Coordinator;

/// <summary>The created key: <c>key</c> is shown this once; only its hash is stored.</summary>
public sealed record ApiKeyCreated(string KeyId, string Key, string Role, string? Address, string? MinerPubKey, string CreatedAt);
