using System.Text.Json.Nodes;
using Aitbc.Core;
using Aitbc.Core.Json;

namespace Aitbc.Coordinator.Jobs;

/// <summary>A validated job submission: what the miner runs, the budget escrowed for it and how long it may take.</summary>
public sealed record JobSubmission(string Type, string Prompt, string Model, JsonObject Options, Amount MaxPrice, int TtlSeconds)
{
    /// <summary>Canonical JSON of what the miner runs (type, model, prompt, options): the job's content.</summary>
    public byte[] PayloadJcs() => CanonicalJson.Serialize(new JsonObject
    {
        ["type"] = Type,
        ["prompt"] = Prompt,
        ["model"] = Model,
        ["options"] = Options.DeepClone(),
    });

    /// <summary>Lower-hex SHA-256 of <see cref="PayloadJcs"/>, written on chain with the escrow.</summary>
    public string PayloadHash() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(PayloadJcs()));
}
