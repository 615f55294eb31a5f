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
        /// <summary>A job as its owner sees it; <paramref name="forAdmin"/> adds the owner's address.</summary>
        public static JobView From(JobRecord job, bool forAdmin = false) => new(
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
    }
}
