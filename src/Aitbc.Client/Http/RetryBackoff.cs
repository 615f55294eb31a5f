using Polly;
using Polly.Retry;

namespace Aitbc.Client.Http;

/// <summary>
/// The backoff of every loop that retries until it succeeds or is stopped (the miner's registration and outbox, the
/// coordinator's outbox): base·2<sup>n−1</sup>, capped, with jitter in the upper half so that many clients recovering
/// together do not retry in lockstep yet none retries much sooner than its schedule. <see cref="Forever{T}"/> runs it as
/// a Polly retry on the given clock; <see cref="Delay"/> is the same schedule for a caller that stores when to try next
/// instead of waiting.
/// </summary>
public static class RetryBackoff
{
    /// <summary>Doublings past this change nothing (every cap is reached long before) and would overflow a TimeSpan.</summary>
    private const int MaxDoublings = 20;

    /// <summary>
    /// The wait before retry <paramref name="attempt"/> (1 for the first): <paramref name="baseDelay"/> doubled per
    /// earlier retry, at most <paramref name="maxDelay"/>; with <paramref name="jitter"/> (numbers in [0, 1)), a point
    /// between half of that and all of it.
    /// </summary>
    public static TimeSpan Delay(int attempt, TimeSpan baseDelay, TimeSpan maxDelay, Func<double>? jitter = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, baseDelay);
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, MaxDoublings));
        var capped = Math.Min(exponential, maxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(jitter is null ? capped : capped / 2 + jitter() * capped / 2);
    }

    /// <summary>
    /// A pipeline that runs its callback again, after <see cref="Delay"/> with jitter on <paramref name="time"/>, for as
    /// long as <paramref name="shouldRetry"/> accepts the outcome: it ends with the first outcome it does not accept, or
    /// when the token given to <c>ExecuteAsync</c> is cancelled (an <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <param name="onRetry">Called before each wait, with the attempt number and the chosen delay (to log them).</param>
    /// <param name="jitter">The jitter's numbers in [0, 1); null uses a shared random. Tests pass a fixed one.</param>
    public static ResiliencePipeline<T> Forever<T>(TimeSpan baseDelay, TimeSpan maxDelay, TimeProvider time, Func<Outcome<T>, bool> shouldRetry,
        Func<OnRetryArguments<T>, ValueTask>? onRetry = null, Func<double>? jitter = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(shouldRetry);
        // Checked here, not at the first retry's delay, so a bad setting fails where the pipeline is built.
        Delay(1, baseDelay, maxDelay);
        var random = jitter ?? Random.Shared.NextDouble;
        return new ResiliencePipelineBuilder<T> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<T>
            {
                MaxRetryAttempts = int.MaxValue,
                ShouldHandle = args => ValueTask.FromResult(shouldRetry(args.Outcome)),
                // Polly numbers retries from 0.
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Delay(args.AttemptNumber + 1, baseDelay, maxDelay, random)),
                OnRetry = onRetry,
            })
            .Build();
    }
}
