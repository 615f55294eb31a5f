using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Infrastructure;

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
