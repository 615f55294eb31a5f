using System.Globalization;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;

namespace Aitbc.Coordinator.Jobs;

/// <summary>The answer to an accepted submission (seed step 3).</summary>
public sealed record JobAccepted(string JobId, string Status, string SubmittedAt);

/// <summary>A job as its owner sees it (PROTOCOL.md, <c>GET /v1/jobs/{id}</c>); absent fields are left out.</summary>
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
    public static JobView From(JobRecord job) => new(
        job.Id,
        job.Status,
        job.Model,
        new Amount(job.MaxPriceMicro).ToAitbcString(),
        job.Result,
        job.Error,
        job.ReceiptId,
        job.CostMicro is { } cost ? new Amount(cost).ToAitbcString() : null,
        Timestamps.Format(job.SubmittedAt),
        job.StartedAt is { } s ? Timestamps.Format(s) : null,
        job.CompletedAt is { } c ? Timestamps.Format(c) : null,
        Timestamps.Format(job.DeadlineAt));
}

/// <summary>One page of a client's jobs, newest first; <c>next_cursor</c> fetches the next page.</summary>
public sealed record JobPage(IReadOnlyList<JobView> Jobs, string? NextCursor);

/// <summary>Times on the wire: RFC 3339 UTC with milliseconds; stored as Unix milliseconds.</summary>
public static class Timestamps
{
    public static string Format(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
