using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Client.Tests.Infrastructure;

/// <summary>
/// A fake clock that reports each timer started on it (created with a due time, or re-armed by <c>Change</c>, as
/// <c>CancelAfter</c> does), so a test advances time only once the code under test is actually waiting for a wait of
/// a known length, instead of guessing with real-time pauses.
/// </summary>
public sealed class TimerWatchingTimeProvider : FakeTimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> _started = new();
    private readonly SemaphoreSlim _signal = new(0);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new WatchedTimer(base.CreateTimer(callback, state, dueTime, period), this);
        Started(dueTime);
        return timer;
    }

    private void Started(TimeSpan dueTime)
    {
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _started.Enqueue(dueTime);
            _signal.Release();
        }
    }

    /// <summary>Waits (in real time, at most 10 s) until a timer due after exactly <paramref name="dueTime"/> has started.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            while (_started.TryDequeue(out var due))
            {
                if (due == dueTime)
                {
                    return;
                }
            }
            await _signal.WaitAsync(deadline.Token);
        }
    }

    private sealed class WatchedTimer(ITimer inner, TimerWatchingTimeProvider owner) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            var changed = inner.Change(dueTime, period);
            owner.Started(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
