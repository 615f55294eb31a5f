using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// Stores verified completions in groups (<see cref="GroupCommit{TItem, TResult}"/>): concurrent completions (job,
/// receipt, record_receipt row, miner record, totals) share one transaction, and each caller is answered with its own
/// result only after that commit.
/// </summary>
public sealed class CompletionWriter(ICoordinatorStore store)
{
    private readonly GroupCommit<CompletedJob, bool> _commit = new(store.CompleteJobsAsync);

    /// <summary>Completions waiting for the writer.</summary>
    internal int Waiting => _commit.Waiting;

    /// <summary>Stores <paramref name="completion"/>; false when its job was no longer assigned or running (to its miner).</summary>
    public Task<bool> CompleteAsync(CompletedJob completion, CancellationToken cancellationToken) => _commit.StoreAsync(completion, cancellationToken);
}
