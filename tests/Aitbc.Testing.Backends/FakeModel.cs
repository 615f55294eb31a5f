namespace Aitbc.Testing;

/// <summary>A model the fake Ollama lists, and how its generations go.</summary>
public sealed record FakeModel(string Name)
{
    /// <summary>How this model always misbehaves; the server's own <see cref="FakeServer.Fault"/>, when set, wins.</summary>
    public BackendFault Fault { get; init; }

    /// <summary>How long a generation takes before it answers.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>When set, a generation answers (after <see cref="Latency"/>) only while the gate is open.</summary>
    public FakeGate? Gate { get; init; }

    /// <summary>The answer, one piece per streamed line (a token each, as Ollama streams).</summary>
    public IReadOnlyList<string> Pieces { get; init; } = ["ok"];
}

/// <summary>The numbers the fake Ollama reports on every <c>done</c> line; durations in nanoseconds, as Ollama writes them.</summary>
public sealed record OllamaStats(long TotalDurationNs, long LoadDurationNs, int PromptEvalCount, long PromptEvalDurationNs, long EvalDurationNs)
{
    /// <summary>The context tokens Ollama hands back for a follow-up; null leaves the field out.</summary>
    public IReadOnlyList<int>? Context { get; init; }
}
