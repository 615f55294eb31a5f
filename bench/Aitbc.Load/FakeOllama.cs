using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aitbc.Load;

/// <summary>
/// An instant inference backend speaking Ollama's wire format on loopback: <c>GET /api/tags</c> lists one model and
/// <c>POST /api/generate</c> waits the configured latency, then streams a single NDJSON <c>done</c> line. The miners
/// reach it through their real Ollama client, so the measured path includes the miner's backend HTTP call.
/// </summary>
public sealed class FakeOllama : IAsyncDisposable
{
    public const string Model = "bench:latest";

    private readonly WebApplication _app;

    private FakeOllama(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>When the latest <c>/api/generate</c> arrived and when its answer was written (UTC; the timeline reads them).</summary>
    public (DateTimeOffset Arrived, DateTimeOffset Answered) LastGenerate { get; private set; }

    public static async Task<FakeOllama> StartAsync(TimeSpan latency, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        FakeOllama? fake = null;
        var tags = JsonSerializer.SerializeToUtf8Bytes(new { models = new[] { new { name = Model } } });
        app.MapGet("/api/tags", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            return context.Response.Body.WriteAsync(tags).AsTask();
        });
        app.MapPost("/api/generate", async (HttpContext context) =>
        {
            var started = Stopwatch.GetTimestamp();
            var arrived = DateTimeOffset.UtcNow;
            // The request body is read (as Ollama would) but not interpreted: every prompt gets the same answer.
            await context.Request.Body.CopyToAsync(Stream.Null, context.RequestAborted);
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, context.RequestAborted);
            }
            var nanos = (long)(Stopwatch.GetElapsedTime(started).TotalMilliseconds * 1e6);
            context.Response.ContentType = "application/x-ndjson";
            var line = JsonSerializer.SerializeToUtf8Bytes(new
            {
                model = Model,
                response = "ok",
                done = true,
                total_duration = Math.Max(1, nanos),
                prompt_eval_count = 1,
                eval_count = 1,
            });
            await context.Response.Body.WriteAsync(line, context.RequestAborted);
            await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
            fake!.LastGenerate = (arrived, DateTimeOffset.UtcNow);
        });
        await app.StartAsync(cancellationToken);
        fake = new FakeOllama(app)
        {
            Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/"),
        };
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
