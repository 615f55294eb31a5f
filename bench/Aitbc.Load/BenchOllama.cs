using Aitbc.Testing;

namespace Aitbc.Load;

/// <summary>
/// The backend aitbc-load's miners answer through: the fake Ollama with one instant model, reached through the miners'
/// real Ollama client, so the measured path includes the miner's backend HTTP call.
/// </summary>
public static class BenchOllama
{
    public const string Model = "bench:latest";

    /// <summary>Every generation answers <paramref name="latency"/> after it arrived.</summary>
    public static Task<FakeOllama> StartAsync(TimeSpan latency, CancellationToken cancellationToken) =>
        FakeOllama.StartInstantAsync(Model, latency, cancellationToken);
}
