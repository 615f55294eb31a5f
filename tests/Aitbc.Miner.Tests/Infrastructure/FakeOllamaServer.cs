using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>
/// Ollama's wire format, as its server writes it: <c>/api/generate</c> streamed as <c>application/x-ndjson</c> (the
/// default when <c>stream</c> is absent) with the stats on the final <c>done</c> line, one JSON object when
/// <c>stream</c> is false, <c>/api/tags</c>, and errors as <c>{"error":"…"}</c>.
/// </summary>
public sealed class FakeOllamaServer : FakeServer
{
    public const long TotalDurationNs = 1_234_567_890;
    public const int PromptEvalCount = 26;
    public const string ServerErrorMessage = "llama runner process has terminated: signal: killed";
    public const string MidStreamErrorMessage = "an error was encountered while running the model: unexpected EOF";

    public IReadOnlyList<string> Models { get; set; } = ["llama3.2:latest", "qwen2.5:0.5b"];

    /// <summary>The pieces each answer streams, one per line (one per token, as Ollama does).</summary>
    public IReadOnlyList<string> Pieces { get; set; } = ["Hello", ",", " miner", "!"];

    public static async Task<FakeOllamaServer> StartNewAsync()
    {
        var server = new FakeOllamaServer();
        await server.StartAsync();
        return server;
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/api/generate", GenerateAsync);
        app.MapGet("/api/tags", TagsAsync);
    }

    private Task TagsAsync(HttpContext context) => WriteJsonAsync(context, 200, new
    {
        models = Models.Select(name => new
        {
            name,
            model = name,
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
    });

    private async Task GenerateAsync(HttpContext context)
    {
        var body = await ReceiveAsync(context);
        var model = body.GetProperty("model").GetString()!;
        if (!Models.Contains(model))
        {
            await WriteJsonAsync(context, 404, new { error = $"model '{model}' not found" });
            return;
        }
        if (Fault == Fault.ServerError)
        {
            await WriteJsonAsync(context, 500, new { error = ServerErrorMessage });
            return;
        }

        var pieces = Pieces;
        if (body.TryGetProperty("options", out var options) && options.TryGetProperty("num_predict", out var n))
        {
            pieces = [.. pieces.Take(n.GetInt32())];
        }
        var stream = !body.TryGetProperty("stream", out var s) || s.GetBoolean();
        if (!stream)
        {
            await WriteJsonAsync(context, 200, Final(model, string.Concat(pieces), pieces.Count));
            return;
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-ndjson";
        for (var i = 0; i < pieces.Count; i++)
        {
            if (i == 2 && Fault is not (Fault.None or Fault.ServerError))
            {
                await MisbehaveAsync(context);
                return;
            }
            await WriteLineAsync(context, new { model, created_at = CreatedAt, response = pieces[i], done = false });
        }
        await WriteLineAsync(context, Final(model, "", pieces.Count));
    }

    private async Task MisbehaveAsync(HttpContext context)
    {
        switch (Fault)
        {
            case Fault.MidStreamError:
                await WriteLineAsync(context, new { error = MidStreamErrorMessage });
                break;
            case Fault.Stall:
                await StallAsync(context);
                break;
            case Fault.Truncate:
                break;
            case Fault.Garbage:
                await context.Response.WriteAsync("<html>proxy error</html>\n");
                break;
            default:
                context.Abort();
                break;
        }
    }

    private static object Final(string model, string response, int evalCount) => new
    {
        model,
        created_at = CreatedAt,
        response,
        done = true,
        done_reason = "stop",
        context = new[] { 128006, 882, 128007 },
        total_duration = TotalDurationNs,
        load_duration = 12_345_678L,
        prompt_eval_count = PromptEvalCount,
        prompt_eval_duration = 45_678_901L,
        eval_count = evalCount,
        eval_duration = 987_654_321L,
    };

    private static string CreatedAt => DateTime.UtcNow.ToString("O");

    private static async Task WriteLineAsync(HttpContext context, object line)
    {
        await context.Response.WriteAsync(JsonSerializer.Serialize(line) + "\n", Encoding.UTF8);
        await context.Response.Body.FlushAsync();
    }
}
