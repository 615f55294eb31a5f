using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Testing;

/// <summary>
/// Ollama's wire format, as its server writes it, over the models it is given: <c>/api/tags</c> lists them;
/// <c>/api/generate</c> streams an answer as <c>application/x-ndjson</c> (the default when <c>stream</c> is absent), one
/// line per piece with the stats on the final <c>done</c> line, or answers one JSON object when <c>stream</c> is false;
/// errors are <c>{"error":"…"}</c>: 404 for a model it does not list, 500 or a line mid-stream for a
/// <see cref="BackendFault"/>. Every model speaking Ollama in the tests and in aitbc-load goes through this one fake.
/// </summary>
public sealed class FakeOllama : FakeServer
{
    public const string ServerErrorMessage = "llama runner process has terminated: signal: killed";
    public const string MidStreamErrorMessage = "an error was encountered while running the model: unexpected EOF";

    private const string NdJson = "application/x-ndjson";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static readonly byte[] Newline = "\n"u8.ToArray();

    private readonly Dictionary<string, FakeModel> _models;
    private readonly byte[] _tags;

    // Null for an instant fake, whose done line reports the time it measured instead.
    private readonly OllamaStats? _stats;

    private FakeOllama(IReadOnlyList<FakeModel> models, OllamaStats? stats)
    {
        Models = models;
        _models = models.ToDictionary(m => m.Name);
        _stats = stats;
        _tags = JsonSerializer.SerializeToUtf8Bytes(new
        {
            models = models.Select(m => new
            {
                name = m.Name,
                model = m.Name,
                modified_at = "2026-11-01T10:00:00.000000000Z",
                size = 2_019_393_189L,
                digest = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                details = new
                {
                    parent_model = "",
                    format = "gguf",
                    family = "llama",
                    families = new[] { "llama" },
                    parameter_size = "3.2B",
                    quantization_level = "Q4_K_M",
                },
            }),
        }, Json);
    }

    public IReadOnlyList<FakeModel> Models { get; }

    /// <summary>When the latest answered <c>/api/generate</c> arrived and when its answer was written (UTC; aitbc-load's timeline reads them).</summary>
    public (DateTimeOffset Arrived, DateTimeOffset Answered) LastGenerate { get; private set; }

    /// <summary>Starts a fake that reads every request, records it and answers as its model is set up to.</summary>
    public static async Task<FakeOllama> StartAsync(IReadOnlyList<FakeModel> models, OllamaStats stats, CancellationToken cancellationToken = default)
    {
        var fake = new FakeOllama(models, stats);
        await fake.ListenAsync(cancellationToken);
        return fake;
    }

    /// <summary>
    /// Starts the cheapest fake that still goes through a real HTTP exchange, for aitbc-load, which measures through it:
    /// one model; every generation waits <paramref name="latency"/>, then gets one NDJSON <c>done</c> line answering "ok"
    /// with the time it took as <c>total_duration</c>. The body is read but neither parsed nor recorded, and faults are
    /// not looked at, so a request costs nothing beyond the exchange.
    /// </summary>
    public static async Task<FakeOllama> StartInstantAsync(string model, TimeSpan latency, CancellationToken cancellationToken)
    {
        var fake = new FakeOllama([new FakeModel(model) { Latency = latency }], stats: null);
        await fake.ListenAsync(cancellationToken);
        return fake;
    }

    /// <summary>The gate <paramref name="model"/> waits at.</summary>
    public FakeGate GateOf(string model) =>
        _models[model].Gate ?? throw new InvalidOperationException($"the fake model {model} has no gate");

    protected override void Map(WebApplication app)
    {
        app.MapGet("/api/tags", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json; charset=utf-8";
            return context.Response.Body.WriteAsync(_tags).AsTask();
        });
        RequestDelegate generate = _stats is null ? AnswerInstantlyAsync : GenerateAsync;
        app.MapPost("/api/generate", generate);
    }

    private async Task AnswerInstantlyAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var arrived = DateTimeOffset.UtcNow;
        var model = Models[0];
        await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
        if (model.Latency > TimeSpan.Zero)
        {
            await Task.Delay(model.Latency, context.RequestAborted);
        }
        var nanos = (long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1e6);
        context.Response.ContentType = NdJson;
        await WriteLineAsync(context, new GenerateLine(model.Name, CreatedAt: null, "ok", Done: true)
        {
            TotalDuration = Math.Max(1, nanos),
            PromptEvalCount = 1,
            EvalCount = 1,
        });
        LastGenerate = (arrived, DateTimeOffset.UtcNow);
    }

    private async Task GenerateAsync(HttpContext context)
    {
        var arrived = DateTimeOffset.UtcNow;
        var body = await ReceiveAsync(context);
        var name = body.GetProperty("model").GetString()!;
        if (!_models.TryGetValue(name, out var model))
        {
            await WriteJsonAsync(context, 404, new { error = $"model '{name}' not found" });
            return;
        }
        var fault = Fault != BackendFault.None ? Fault : model.Fault;
        if (fault == BackendFault.ServerError)
        {
            await WriteJsonAsync(context, 500, new { error = ServerErrorMessage });
            return;
        }
        if (fault == BackendFault.Hang)
        {
            await StallAsync(context);
            return;
        }
        if (model.Latency > TimeSpan.Zero)
        {
            await Task.Delay(model.Latency, context.RequestAborted);
        }
        if (model.Gate is { } gate)
        {
            await gate.PassAsync(context.RequestAborted);
        }

        var pieces = model.Pieces;
        if (body.TryGetProperty("options", out var options) && options.TryGetProperty("num_predict", out var n))
        {
            pieces = [.. pieces.Take(n.GetInt32())];
        }
        if (body.TryGetProperty("stream", out var stream) && !stream.GetBoolean())
        {
            await WriteJsonAsync(context, 200, DoneLine(model.Name, string.Concat(pieces), pieces.Count), Json);
            LastGenerate = (arrived, DateTimeOffset.UtcNow);
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = NdJson;
        for (var i = 0; i < pieces.Count; i++)
        {
            if (i == 2 && fault != BackendFault.None)
            {
                await MisbehaveAsync(context, fault);
                return;
            }
            await WriteLineAsync(context, new GenerateLine(model.Name, CreatedAt(), pieces[i], Done: false));
        }
        await WriteLineAsync(context, DoneLine(model.Name, "", pieces.Count));
        LastGenerate = (arrived, DateTimeOffset.UtcNow);
    }

    private async Task MisbehaveAsync(HttpContext context, BackendFault fault)
    {
        switch (fault)
        {
            case BackendFault.MidStreamError:
                await WriteLineAsync(context, new { error = MidStreamErrorMessage });
                break;
            case BackendFault.Stall:
                await StallAsync(context);
                break;
            case BackendFault.Truncate:
                break;
            case BackendFault.Garbage:
                await context.Response.WriteAsync("<html>proxy error</html>\n");
                break;
            default:
                context.Abort();
                break;
        }
    }

    private GenerateLine DoneLine(string model, string response, int evalCount) => new(model, CreatedAt(), response, Done: true)
    {
        DoneReason = "stop",
        Context = _stats!.Context,
        TotalDuration = _stats.TotalDurationNs,
        LoadDuration = _stats.LoadDurationNs,
        PromptEvalCount = _stats.PromptEvalCount,
        PromptEvalDuration = _stats.PromptEvalDurationNs,
        EvalCount = evalCount,
        EvalDuration = _stats.EvalDurationNs,
    };

    private static string CreatedAt() => DateTime.UtcNow.ToString("O");

    /// <summary>One NDJSON line; Kestrel sends each write at once, so the client sees the line as it is written.</summary>
    private static async Task WriteLineAsync<T>(HttpContext context, T line)
    {
        await context.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(line, Json), context.RequestAborted);
        await context.Response.Body.WriteAsync(Newline, context.RequestAborted);
    }

    /// <summary>A line of <c>/api/generate</c>'s answer, in Ollama's field order; what is null is left out.</summary>
    private sealed record GenerateLine(string Model, string? CreatedAt, string Response, bool Done)
    {
        public string? DoneReason { get; init; }

        public IReadOnlyList<int>? Context { get; init; }

        public long? TotalDuration { get; init; }

        public long? LoadDuration { get; init; }

        public int? PromptEvalCount { get; init; }

        public long? PromptEvalDuration { get; init; }

        public int? EvalCount { get; init; }

        public long? EvalDuration { get; init; }
    }
}
