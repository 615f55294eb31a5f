namespace Aitbc.Miner.Backends;

/// <summary>One way of running a model: Ollama, an OpenAI-compatible server, or llama.cpp inside the miner.</summary>
public interface IInferenceBackend
{
    /// <summary>The models this backend can serve now, as names a job's <c>model</c> field may use.</summary>
    Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct);

    /// <summary>
    /// Runs one generation to completion. Cancelling <paramref name="ct"/> stops the work at the backend (the HTTP
    /// request is aborted, the llama.cpp loop stops) and throws an <see cref="InferenceException"/> of kind
    /// <see cref="InferenceFailure.Cancelled"/>; every other failure is an <see cref="InferenceException"/> too.
    /// </summary>
    Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct);
}

/// <summary>What a job asks a backend for: the seed's <c>model</c>, <c>prompt</c> and <c>options</c>.</summary>
public sealed record InferenceRequest(string Model, string Prompt, InferenceOptions? Options = null);

/// <summary>Sampling options a job may set; a null leaves the backend's default.</summary>
public sealed record InferenceOptions(double? Temperature = null, int? NumPredict = null, long? Seed = null);

/// <summary>A finished generation: its text and what it cost.</summary>
public sealed record InferenceResult(string Text, InferenceMetrics Metrics);

/// <summary>
/// The backend's own account of the work: <see cref="ComputeTime"/> in seconds is what the miner bills for.
/// </summary>
public sealed record InferenceMetrics(double ComputeTime, int PromptTokens, int TokensGenerated);
