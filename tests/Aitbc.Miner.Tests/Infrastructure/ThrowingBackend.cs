using Aitbc.Miner.Backends;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>A backend with a bug: it throws something other than an <see cref="InferenceException"/>.</summary>
public sealed class ThrowingBackend : IInferenceBackend
{
    public const string Model = "buggy";

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) => Task.FromResult<IReadOnlyList<string>>([Model]);

    public Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct) =>
        throw new InvalidOperationException("the backend has a bug");
}
