using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aitbc.Testing;

/// <summary>
/// The one edge we cannot run here, an Ollama server, speaking its wire format with two faulty models:
/// <see cref="BrokenModel"/> answers <c>/api/generate</c> with Ollama's 500 error body, and <see cref="StalledModel"/>
/// never answers (until the caller goes away), as a hung GPU would; and two good models (streamed NDJSON, stats on the
/// <c>done</c> line): <see cref="GatedModel"/>, whose answer waits until a test opens its gate, so the test decides when
/// a job completes, and <see cref="QuickModel"/>, which answers after <see cref="QuickLatency"/> unless the test
/// <see cref="Stall"/>s it, as a backend that hangs for a while and then recovers.
/// </summary>
public sealed class FakeOllama : IAsyncDisposable
{
    public const string BrokenModel = "broken:latest";
    public const string StalledModel = "stalled:latest";
    public const string GatedModel = "gated:latest";
    public const string QuickModel = "quick:latest";
    public const string BrokenError = "llama runner process has terminated: signal: killed";
    private readonly WebApplication _app;
    private int _stalled;
    private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _quickGate = Open();
    private int _waiting;
    private int _quickAnswered;

    private FakeOllama(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>How many generations are hanging on the stalled model right now.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    /// <summary>How many generations wait at the gate right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Lets every waiting (and later) gated generation answer; <see cref="CloseGate"/> holds them again.</summary>
    public void OpenGate() => _gate.TrySetResult();

    public void CloseGate() => Interlocked.Exchange(ref _gate, new(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>How long <see cref="QuickModel"/> takes to answer when not stalled.</summary>
    public TimeSpan QuickLatency { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How many <see cref="QuickModel"/> generations were answered.</summary>
    public int QuickAnswered => Volatile.Read(ref _quickAnswered);

    /// <summary><see cref="QuickModel"/> holds every answer (waiting and later ones) until <see cref="Resume"/>.</summary>
    public void Stall()
    {
        var current = Volatile.Read(ref _quickGate);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _quickGate, new(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }
    }

    public void Resume() => Volatile.Read(ref _quickGate).TrySetResult();

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    public static async Task<FakeOllama> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeOllama(app);
        app.MapGet("/api/tags", () => Results.Json(new
        {
            models = new[] { BrokenModel, StalledModel, GatedModel, QuickModel }.Select(name => new
            {
                name,
                model = name,
                modified_at = "2026-11-01T10:00:00.000000000Z",
                size = 2_019_393_189L,
                digest = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                details = new { format = "gguf", family = "llama", parameter_size = "3.2B", quantization_level = "Q4_K_M" },
            }),
        }));
        app.MapPost("/api/generate", (Delegate)fake.GenerateAsync);
        await app.StartAsync();
        fake.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");
        return fake;
    }

    private async Task<IResult> GenerateAsync(HttpContext context)
    {
        using var body = await System.Text.Json.JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var model = body.RootElement.GetProperty("model").GetString();
        if (model == StalledModel)
        {
            Interlocked.Increment(ref _stalled);
            try
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _stalled);
            }
            return Results.Empty;
        }
        if (model == QuickModel)
        {
            await Task.Delay(QuickLatency, context.RequestAborted);
            await Volatile.Read(ref _quickGate).Task.WaitAsync(context.RequestAborted);
            await StreamAnswerAsync(context, model, ["Quick", " answer", "."]);
            Interlocked.Increment(ref _quickAnswered);
            return Results.Empty;
        }
        if (model == GatedModel)
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                await Volatile.Read(ref _gate).Task.WaitAsync(context.RequestAborted);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
            await StreamAnswerAsync(context, model, ["Machine", " learning", " is", " learning", " from", " data", "."]);
            return Results.Empty;
        }
        return model == BrokenModel
            ? Results.Json(new { error = BrokenError }, statusCode: 500)
            : Results.Json(new { error = $"model '{model}' not found" }, statusCode: 404);
    }

    /// <summary>Ollama's default streamed answer: one NDJSON line per token, the stats (nanoseconds) on the last.</summary>
    private static async Task StreamAnswerAsync(HttpContext context, string model, IReadOnlyList<string> pieces)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-ndjson";
        foreach (var piece in pieces)
        {
            await WriteLineAsync(context, new { model, created_at = DateTime.UtcNow.ToString("O"), response = piece, done = false });
        }
        await WriteLineAsync(context, new
        {
            model,
            created_at = DateTime.UtcNow.ToString("O"),
            response = "",
            done = true,
            done_reason = "stop",
            total_duration = 250_000_000L,
            load_duration = 1_000_000L,
            prompt_eval_count = 8,
            prompt_eval_duration = 20_000_000L,
            eval_count = pieces.Count,
            eval_duration = 200_000_000L,
        });
    }

    private static async Task WriteLineAsync(HttpContext context, object line)
    {
        await context.Response.WriteAsync(System.Text.Json.JsonSerializer.Serialize(line) + "\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
