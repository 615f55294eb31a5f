namespace Aitbc.Contracts.Coordinator;

// The coordinator's REST contract (docs/protocol.md, "Coordinator REST"), one record per message, shared by the
// coordinator (which writes them), the CLI, the miner and the tests (which read them). Amounts are AITBC decimal
// strings ("0.25"), times RFC 3339 UTC with milliseconds, public keys base64, addresses bech32.

/// <summary>Wire names of the coordinator's headers.</summary>
public static class CoordinatorHeaders
{
    public const string ApiKey = "X-Api-Key";
    public const string MinerKey = "X-Miner-Key";
    public const string IdempotencyKey = "Idempotency-Key";
}
