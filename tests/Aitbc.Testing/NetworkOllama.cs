namespace Aitbc.Testing;

/// <summary>
/// The Ollama the network tests' miners use, with two faulty models: <see cref="BrokenModel"/> answers
/// <c>/api/generate</c> with Ollama's 500 error body, and <see cref="StalledModel"/> never answers (until the caller goes
/// away), as a hung GPU would; and two good ones: <see cref="GatedModel"/>, whose answer waits until a test opens its
/// gate (closed at first), so the test decides when a job completes, and <see cref="QuickModel"/>, which answers after
/// <see cref="QuickLatency"/> while its gate is open (at first), so closing it for a while makes a backend that hangs
/// and then recovers.
/// </summary>
public static class NetworkOllama
{
    public const string BrokenModel = "broken:latest";
    public const string StalledModel = "stalled:latest";
    public const string GatedModel = "gated:latest";
    public const string QuickModel = "quick:latest";

    public static readonly TimeSpan QuickLatency = TimeSpan.FromMilliseconds(200);

    private static readonly OllamaStats Stats = new(
        TotalDurationNs: 250_000_000, LoadDurationNs: 1_000_000, PromptEvalCount: 8, PromptEvalDurationNs: 20_000_000, EvalDurationNs: 200_000_000);

    public static Task<FakeOllama> StartAsync() => FakeOllama.StartAsync(
        [
            new FakeModel(BrokenModel) { Fault = BackendFault.ServerError },
            new FakeModel(StalledModel) { Fault = BackendFault.Hang },
            new FakeModel(GatedModel)
            {
                Gate = new FakeGate(open: false),
                Pieces = ["Machine", " learning", " is", " learning", " from", " data", "."],
            },
            new FakeModel(QuickModel) { Latency = QuickLatency, Gate = new FakeGate(open: true), Pieces = ["Quick", " answer", "."] },
        ],
        Stats);
}
