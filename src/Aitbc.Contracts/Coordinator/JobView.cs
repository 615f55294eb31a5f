using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Coordinator;

/// <summary>A job as its owner (or an admin) sees it; absent fields are left out of the JSON.</summary>
public sealed record JobView(
    string JobId,
    string Status,
    string Model,
    string MaxPrice,
    string? Result,
    string? Error,
    string? ReceiptId,
    string? Cost,
    string SubmittedAt,
    string? StartedAt,
    string? CompletedAt,
    string Deadline)
{
    /// <summary>The assigned miner's address, once a miner has the job.</summary>
    public string? Miner { get; init; }

    /// <summary>When a miner accepted the assignment.</summary>
    public string? AssignedAt { get; init; }

    /// <summary>Owner's wallet address; shown in admin listings.</summary>
    public string? Client { get; init; }

    [JsonIgnore]
    public bool IsTerminal => JobStatus.IsTerminal(Status);
}
