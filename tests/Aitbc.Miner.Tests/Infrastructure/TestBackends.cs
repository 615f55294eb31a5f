using System.Diagnostics;
using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>A backend that answers at once, recording when each call arrived and returned (Stopwatch ticks).</summary>
public sealed class InstantBackend : IInferenceBackend
{
    public const string Model = "instant";

    public System.Collections.Concurrent.ConcurrentDictionary<string, (long Called, long Returned)> Calls { get; } = new();

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([Model]);

    /// <summary>How long each call takes; zero answers synchronously.</summary>
    public TimeSpan Delay { get; init; }

    public async Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct)
    {
        var called = Stopwatch.GetTimestamp();
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, ct);
        }
        var result = new InferenceResult("echo: " + request.Prompt, new InferenceMetrics(0.001, 3, 2));
        Calls[request.Prompt] = (called, Stopwatch.GetTimestamp());
        return result;
    }
}

/// <summary>A backend that never finishes until cancelled; says when it was called and when it was cancelled.</summary>
public sealed class StallingBackend : IInferenceBackend
{
    public const string Model = "stall";

    private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Called => _called.Task;

    public Task Cancelled => _cancelled.Task;

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([Model]);

    public async Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct)
    {
        _called.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, ct);
        }
        catch (OperationCanceledException e)
        {
            _cancelled.TrySetResult();
            throw new InferenceException(InferenceFailure.Cancelled, "cancelled", e);
        }
        throw new InvalidOperationException("unreachable");
    }
}

/// <summary>A backend with a bug: it throws something other than an <see cref="InferenceException"/>.</summary>
public sealed class ThrowingBackend : IInferenceBackend
{
    public const string Model = "buggy";

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([Model]);

    public Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct) =>
        throw new InvalidOperationException("the backend has a bug");
}
