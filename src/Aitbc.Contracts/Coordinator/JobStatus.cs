namespace Aitbc.Contracts.Coordinator;

/// <summary>
/// Job states (docs/protocol.md): pending → assigned → running → completed | failed, and pending|assigned → cancelled. The
/// wire strings of <see cref="JobView.Status"/>, which the coordinator also stores as they are.
/// </summary>
public static class JobStatus
{
    public const string Pending = "pending";
    public const string Assigned = "assigned";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Every state, in the order a job moves through them.</summary>
    public static readonly IReadOnlyList<string> All = [Pending, Assigned, Running, Completed, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled;
}
