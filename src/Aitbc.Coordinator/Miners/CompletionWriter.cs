using System.Collections.Concurrent;
using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// Stores verified completions in groups, like submissions (<see cref="Jobs.JobService.SubmitAsync"/>): each waits in a
/// queue, and a single writer takes every waiting one (up to <see cref="MaxBatch"/>) and stores them all (job, receipt,
/// record_receipt row, miner record, totals) in one transaction, so concurrent completions cost one commit instead of
/// queueing one by one for SQLite's single writer. Each caller is answered with its own result only after that commit.
/// If the group's transaction fails, each completion is stored again alone, so one that cannot be stored fails only itself.
/// </summary>
public sealed class CompletionWriter(ICoordinatorStore store)
{
    /// <summary>Completions stored together at most.</summary>
    internal const int MaxBatch = 256;

    private readonly ConcurrentQueue<Queued> _queue = new();
    private int _draining;

    /// <summary>Completions waiting for the writer.</summary>
    internal int Waiting => _queue.Count;

    /// <summary>Stores <paramref name="completion"/>; false when its job was no longer assigned or running (to its miner).</summary>
    public async Task<bool> CompleteAsync(CompletedJob completion, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = new Queued(completion, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Enqueue(queued);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            // The writer runs on its own: no caller's cancellation or request scope may stop a group half-way.
            _ = Task.Run(DrainAsync, CancellationToken.None);
        }
        return await queued.Outcome.Task.ConfigureAwait(false);
    }

    private async Task DrainAsync()
    {
        while (true)
        {
            var group = new List<Queued>();
            while (group.Count < MaxBatch && _queue.TryDequeue(out var queued))
            {
                group.Add(queued);
            }
            if (group.Count > 0)
            {
                await StoreAsync(group).ConfigureAwait(false);
            }
            if (_queue.IsEmpty)
            {
                Volatile.Write(ref _draining, 0);
                // A completion queued after the last look but before the flag cleared found the writer still running: look once more.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                {
                    return;
                }
            }
        }
    }

    private async Task StoreAsync(List<Queued> group)
    {
        try
        {
            var done = await store.CompleteJobsAsync([.. group.Select(q => q.Completion)], CancellationToken.None).ConfigureAwait(false);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Outcome.TrySetResult(done[i]);
            }
        }
        catch (Exception) when (group.Count > 1)
        {
            // Nothing of the group was stored (one transaction): each alone, so that only the one at fault gets the error.
            foreach (var queued in group)
            {
                await StoreAsync([queued]).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            group[0].Outcome.TrySetException(e);
        }
    }

    private sealed record Queued(CompletedJob Completion, TaskCompletionSource<bool> Outcome);
}
