namespace Aitbc.Coordinator.Chain;

/// <summary>
/// Where submissions wait for the chain writer's decision on their escrow, by job id. A waiter registers before its job
/// is stored, so a decision made at once is not missed. The writer publishes here; in a coordinator cluster the
/// decisions of the writer in another process arrive through <see cref="Cluster.ClusterBus"/>, which also relays this
/// process's writer's decisions to the others.
/// </summary>
public sealed class SubmitDecisions
{
    private readonly Dictionary<string, Entry> _waiting = new(StringComparer.Ordinal);

    /// <summary>Called with every batch of decisions this process's writer publishes (the cluster relays them).</summary>
    public event Action<IReadOnlyList<(string JobId, SubmitDecision Decision)>>? Published;

    /// <summary>Jobs whose decision someone waits for.</summary>
    public int Waiting
    {
        get
        {
            lock (_waiting)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Starts waiting for <paramref name="jobId"/>'s decision; several waiters share one, and each that gives up calls <see cref="Forget"/>.</summary>
    public Task<SubmitDecision> Register(string jobId)
    {
        lock (_waiting)
        {
            if (!_waiting.TryGetValue(jobId, out var entry))
            {
                _waiting[jobId] = entry = new Entry();
            }
            entry.Waiters++;
            return entry.Decision.Task;
        }
    }

    /// <summary>One waiter of <paramref name="jobId"/> stops waiting; the others keep theirs.</summary>
    public void Forget(string jobId)
    {
        lock (_waiting)
        {
            if (_waiting.TryGetValue(jobId, out var entry) && --entry.Waiters == 0)
            {
                _waiting.Remove(jobId);
            }
        }
    }

    /// <summary>Decisions of this process's writer: answers the local waiters and hands them to <see cref="Published"/>.</summary>
    public void Publish(IReadOnlyList<(string JobId, SubmitDecision Decision)> decisions)
    {
        if (decisions.Count == 0)
        {
            return;
        }
        Deliver(decisions);
        Published?.Invoke(decisions);
    }

    /// <summary>Answers the local waiters of <paramref name="decisions"/> (made here or relayed from another process's writer).</summary>
    public void Deliver(IReadOnlyList<(string JobId, SubmitDecision Decision)> decisions)
    {
        foreach (var (jobId, decision) in decisions)
        {
            Entry? entry;
            lock (_waiting)
            {
                _waiting.Remove(jobId, out entry);
            }
            entry?.Decision.TrySetResult(decision);
        }
    }

    private sealed class Entry
    {
        public TaskCompletionSource<SubmitDecision> Decision { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Waiters { get; set; }
    }
}
