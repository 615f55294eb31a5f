using System.Collections.Concurrent;

namespace Aitbc.Coordinator.Storage;

/// <summary>
/// Group commit for one kind of write: each caller queues its item, and a single drainer takes every waiting item (up to
/// <see cref="MaxBatch"/>) and stores them all with one call of <c>storeMany</c> (one database transaction), so
/// concurrent writers cost one commit instead of queueing one by one for SQLite's single writer. Each caller is
/// answered with its own result only after that commit. If the group's call fails, each item is stored again alone, so
/// one that cannot be stored (a unique index it breaks, say) fails only its own caller.
/// </summary>
public sealed class GroupCommit<TItem, TResult>(Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> storeMany)
{
    /// <summary>Items stored together at most.</summary>
    public const int MaxBatch = 256;

    private readonly ConcurrentQueue<Queued> _queue = new();
    private int _draining;

    /// <summary>Items waiting for the drainer.</summary>
    public int Waiting => _queue.Count;

    /// <summary>Stores <paramref name="item"/> in the next group and returns its result.</summary>
    public async Task<TResult> StoreAsync(TItem item, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var queued = new Queued(item, new TaskCompletionSource<TResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Enqueue(queued);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            // The drainer runs on its own: no caller's cancellation or request scope may stop a group half-way.
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
                await StoreGroupAsync(group).ConfigureAwait(false);
            }
            if (_queue.IsEmpty)
            {
                Volatile.Write(ref _draining, 0);
                // An item queued after the last look but before the flag cleared found the drainer still running: look once more.
                if (_queue.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
                {
                    return;
                }
            }
        }
    }

    private async Task StoreGroupAsync(List<Queued> group)
    {
        try
        {
            var results = await storeMany([.. group.Select(q => q.Item)], CancellationToken.None).ConfigureAwait(false);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Outcome.TrySetResult(results[i]);
            }
        }
        catch (Exception) when (group.Count > 1)
        {
            // Nothing of the group was stored (one transaction): each alone, so that only the one at fault gets the error.
            foreach (var queued in group)
            {
                await StoreGroupAsync([queued]).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            group[0].Outcome.TrySetException(e);
        }
    }

    private sealed record Queued(TItem Item, TaskCompletionSource<TResult> Outcome);
}
