namespace Aitbc.Coordinator.Jobs;

/// <summary>
/// Wakes long-polls when a job changes: a waiter takes the job's current signal before reading the job, so a change
/// that lands between its read and its wait still wakes it. Entries live only while someone waits.
/// </summary>
public sealed class JobSignals
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Takes the signal for <paramref name="jobId"/>; dispose it when done waiting.</summary>
    public Subscription Subscribe(string jobId)
    {
        lock (_entries)
        {
            if (!_entries.TryGetValue(jobId, out var entry))
            {
                entry = new Entry();
                _entries[jobId] = entry;
            }
            entry.Waiters++;
            return new Subscription(this, jobId, entry.Signal.Task);
        }
    }

    /// <summary>Tells the other processes of a coordinator cluster that a job changed; null in a coordinator that runs alone.</summary>
    public Action<string>? Relay { get; set; }

    /// <summary>Wakes everyone waiting on <paramref name="jobId"/>, here and (through <see cref="Relay"/>) in the other processes.</summary>
    public void Notify(string jobId)
    {
        NotifyLocal(jobId);
        Relay?.Invoke(jobId);
    }

    /// <summary>Wakes this process's waiters on <paramref name="jobId"/> (a change made here, or relayed from another process).</summary>
    public void NotifyLocal(string jobId)
    {
        TaskCompletionSource? signal = null;
        lock (_entries)
        {
            if (_entries.TryGetValue(jobId, out var entry))
            {
                signal = entry.Signal;
                entry.Signal = NewSignal();
            }
        }
        signal?.TrySetResult();
    }

    private void Release(string jobId)
    {
        lock (_entries)
        {
            if (_entries.TryGetValue(jobId, out var entry) && --entry.Waiters == 0)
            {
                _entries.Remove(jobId);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Entry
    {
        public TaskCompletionSource Signal { get; set; } = NewSignal();

        public int Waiters { get; set; }
    }

    /// <summary>A waiter's hold on a job's signal: <see cref="Changed"/> completes at the job's next change.</summary>
    public sealed class Subscription(JobSignals owner, string jobId, Task changed) : IDisposable
    {
        private int _disposed;

        public Task Changed { get; private set; } = changed;

        /// <summary>Re-arms after a wake-up: the next change from now.</summary>
        public void Renew()
        {
            lock (owner._entries)
            {
                Changed = owner._entries[jobId].Signal.Task;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                owner.Release(jobId);
            }
        }
    }
}
