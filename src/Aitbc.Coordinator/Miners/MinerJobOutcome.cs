using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Miners;

/// <summary>What <see cref="MinerJobService"/> made of a miner's report on a job: the job as it now is, or why not.</summary>
public abstract record MinerJobOutcome
{
    private MinerJobOutcome()
    {
    }

    /// <summary>The report was applied (or was a retry of one already applied): the job as it now is.</summary>
    public sealed record Done(JobRecord Job) : MinerJobOutcome;

    /// <summary>No such job, or another miner's: which jobs exist is not this miner's business.</summary>
    public sealed record Missing(string Detail) : MinerJobOutcome;

    /// <summary>The job is in a state the report cannot move it from.</summary>
    public sealed record Conflict(string Detail) : MinerJobOutcome;

    /// <summary>The report is incomplete: a required part is missing.</summary>
    public sealed record Malformed(string Detail) : MinerJobOutcome;

    /// <summary>The report has bad fields, each named by its JSON path; the job is left as it was.</summary>
    public sealed record Invalid(Dictionary<string, string[]> Errors) : MinerJobOutcome
    {
        public Invalid(string field, string error)
            : this(new Dictionary<string, string[]> { [field] = [error] })
        {
        }
    }
}
