using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>The Ollama the miner tests talk to: two models that answer "Hello, miner!" a token a line, with fixed stats.</summary>
public static class TestOllama
{
    public const long TotalDurationNs = 1_234_567_890;
    public const int PromptEvalCount = 26;

    private static readonly IReadOnlyList<string> Models = ["llama3.2:latest", "qwen2.5:0.5b"];

    private static readonly OllamaStats Stats = new(
        TotalDurationNs, LoadDurationNs: 12_345_678, PromptEvalCount, PromptEvalDurationNs: 45_678_901, EvalDurationNs: 987_654_321)
    {
        Context = [128006, 882, 128007],
    };

    public static Task<FakeOllama> StartAsync() =>
        FakeOllama.StartAsync([.. Models.Select(name => new FakeModel(name) { Pieces = ["Hello", ",", " miner", "!"] })], Stats);
}
