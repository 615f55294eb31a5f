using Aitbc.Core.Threading;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Core.Tests.Threading;

public sealed class WakeSignalTests
{
    [Fact]
    public async Task A_kick_made_before_the_wait_is_not_lost_and_many_kicks_wake_once()
    {
        var signal = new WakeSignal();
        for (var i = 0; i < 1000; i++)
        {
            signal.Kick();
        }

        Assert.True(await signal.WaitAsync(TimeSpan.FromHours(1), TimeProvider.System, default));
        // The thousand kicks were one: the next wait times out.
        var time = new FakeTimeProvider();
        var second = signal.WaitAsync(TimeSpan.FromSeconds(5), time, default);
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(await second);
    }

    [Fact]
    public async Task A_kick_wakes_a_waiting_worker_before_its_timeout()
    {
        var signal = new WakeSignal();
        var time = new FakeTimeProvider();
        var waiting = signal.WaitAsync(TimeSpan.FromMinutes(1), time, default);
        Assert.False(waiting.IsCompleted);

        signal.Kick();

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task The_plain_wait_takes_one_kick_and_stops_on_cancellation()
    {
        var signal = new WakeSignal();
        signal.Kick();
        await signal.WaitAsync(default);

        using var stop = new CancellationTokenSource();
        var waiting = signal.WaitAsync(stop.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => signal.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System, stop.Token));
    }

    [Fact]
    public async Task Waiting_for_a_kick_or_a_task_ends_with_whichever_is_first_and_a_wait_left_behind_swallows_no_kick()
    {
        var signal = new WakeSignal();
        var other = new TaskCompletionSource();
        var waiting = signal.KickedBeforeAsync(other.Task);
        Assert.False(waiting.IsCompleted);
        other.SetResult();
        Assert.False(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));

        // The wait that lost to the task is still registered with the channel; the next kick is still there for the next wait.
        signal.Kick();
        Assert.True(await signal.KickedBeforeAsync(new TaskCompletionSource().Task).WaitAsync(TimeSpan.FromSeconds(30)));

        var kicked = signal.KickedBeforeAsync(new TaskCompletionSource().Task);
        Assert.False(kicked.IsCompleted);
        signal.Kick();
        Assert.True(await kicked.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
