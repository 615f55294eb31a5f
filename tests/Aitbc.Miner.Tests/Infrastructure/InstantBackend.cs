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
