using System.Collections.Concurrent;

namespace Aitbc.Coordinator.Chain;

/// <summary>
/// Where submissions wait for the chain writer's decision on their escrow, by job id. A waiter registers before its job
/// is stored, so a decision made at once is not missed. The writer publishes here; in a coordinator cluster the
/// decisions of the writer in another process arrive through <see cref="Cluster.ClusterBus"/>, which also relays this
/// process's writer's decisions to the others.
/// </summary>
public sealed class SubmitDecisions
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<SubmitDecision>> _waiting = new(StringComparer.Ordinal);

    /// <summary>Called with every batch of decisions this process's writer publishes (the cluster relays them).</summary>
    public event Action<IReadOnlyList<(string JobId, SubmitDecision Decision)>>? Published;

    /// <summary>Jobs whose decision someone waits for.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Starts waiting for <paramref name="jobId"/>'s decision (several waiters share one).</summary>
    public Task<SubmitDecision> Register(string jobId) =>
        _waiting.GetOrAdd(jobId, _ => new TaskCompletionSource<SubmitDecision>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Stops waiting for <paramref name="jobId"/> (a waiter gave up).</summary>
    public void Forget(string jobId) => _waiting.TryRemove(jobId, out _);

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
            if (_waiting.TryRemove(jobId, out var waiter))
            {
                waiter.TrySetResult(decision);
            }
        }
    }
}
