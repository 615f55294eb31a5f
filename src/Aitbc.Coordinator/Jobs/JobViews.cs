using System.Globalization;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;

namespace Aitbc.Coordinator.Jobs;

/// <summary>Maps stored jobs onto the REST contract's <see cref="JobView"/> (Aitbc.Client.Coordinator).</summary>
public static class JobViews
{
    extension(JobView)
    {
        /// <summary>
        /// A job as its owner sees it; <paramref name="forAdmin"/> adds the owner's address. A completed job whose escrow is
        /// not yet known to be in a block reads as still running, without result, receipt or cost (<see cref="Withheld"/>).
        /// </summary>
        public static JobView From(JobRecord job, bool forAdmin = false)
        {
            var view = new JobView(
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
                Timestamps.Format(job.DeadlineAt))
            {
                Miner = job.Miner,
                AssignedAt = job.AssignedAt is { } a ? Timestamps.Format(a) : null,
                Client = forAdmin ? job.ClientAddress : null,
            };
            return Withheld(job) ? view with { Status = JobStatus.Running, Result = null, ReceiptId = null, Cost = null, CompletedAt = null } : view;
        }
    }

    /// <summary>
    /// Escrow before work: a result is released only once the job's escrow is in a block. Admitted to the mempool is
    /// enough to schedule the job, but the escrow can still fail in its block (the client spent or revoked meanwhile),
    /// and then nobody pays: the client must not hold the result by then.
    /// </summary>
    public static bool Withheld(JobRecord job) => job.Status == JobStatus.Completed && job.EscrowAt is null;

    /// <summary>The status the job's owner sees (<see cref="Withheld"/>).</summary>
    public static string VisibleStatus(JobRecord job) => Withheld(job) ? JobStatus.Running : job.Status;
}
