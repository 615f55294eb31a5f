using Aitbc.Client.Http;
using Aitbc.Client.Tests.Infrastructure;

namespace Aitbc.Client.Tests.Http;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(1);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 200)]
    [InlineData(4, 800)]
    [InlineData(5, 1000)]
    [InlineData(int.MaxValue, 1000)]
    public void Without_jitter_the_delay_doubles_from_the_base_up_to_the_cap(int attempt, int milliseconds) =>
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), RetryBackoff.Delay(attempt, Base, Max));

    [Fact]
    public void Jitter_keeps_a_delay_in_the_upper_half_of_its_schedule()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(200), RetryBackoff.Delay(3, Base, Max, () => 0));
        Assert.Equal(TimeSpan.FromMilliseconds(300), RetryBackoff.Delay(3, Base, Max, () => 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(500), RetryBackoff.Delay(10, Base, Max, () => 0));
    }

    [Fact]
    public void A_cap_below_the_base_is_refused_when_the_pipeline_is_built() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => RetryBackoff.Forever<bool>(Max, Base, TimeProvider.System, _ => true));

    [Fact]
    public async Task Forever_runs_again_after_each_delay_on_the_given_clock_until_the_attempt_succeeds()
    {
        var time = new TimerWatchingTimeProvider();
        var attempts = 0;
        var retried = new List<(int Attempt, TimeSpan Delay)>();
        var pipeline = RetryBackoff.Forever<bool>(Base, Max, time, outcome => !outcome.Result,
            args =>
            {
                retried.Add((args.AttemptNumber, args.RetryDelay));
                return ValueTask.CompletedTask;
            },
            jitter: () => 0);

        var run = pipeline.ExecuteAsync(_ => ValueTask.FromResult(++attempts == 3), CancellationToken.None).AsTask();
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(50));
        Assert.Equal(1, attempts);
        time.Advance(TimeSpan.FromMilliseconds(50));
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(100));
        Assert.Equal(2, attempts);
        time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.True(await run);
        Assert.Equal(3, attempts);
        Assert.Equal([(0, TimeSpan.FromMilliseconds(50)), (1, TimeSpan.FromMilliseconds(100))], retried);
    }

    [Fact]
    public async Task Forever_ends_with_the_first_outcome_it_does_not_retry()
    {
        var pipeline = RetryBackoff.Forever<bool>(Base, Max, new TimerWatchingTimeProvider(), outcome => outcome.Exception is TimeoutException);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            pipeline.ExecuteAsync<bool>(_ => throw new InvalidOperationException("a bug"), CancellationToken.None).AsTask());

        Assert.Equal("a bug", error.Message);
    }

    [Fact]
    public async Task Forever_stops_waiting_when_cancelled()
    {
        var time = new TimerWatchingTimeProvider();
        using var stop = new CancellationTokenSource();
        var pipeline = RetryBackoff.Forever<bool>(Base, Max, time, outcome => !outcome.Result, jitter: () => 0);

        var run = pipeline.ExecuteAsync(_ => ValueTask.FromResult(false), stop.Token).AsTask();
        await time.WaitForTimerAsync(TimeSpan.FromMilliseconds(50));
        await stop.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }
}
