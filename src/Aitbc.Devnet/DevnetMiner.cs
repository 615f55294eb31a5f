namespace Aitbc.Devnet;

/// <summary>One devnet miner's identity: its API key (the secret) and the address its key file gives.</summary>
public sealed record DevnetMiner(int Index, string Address, string ApiKey);
