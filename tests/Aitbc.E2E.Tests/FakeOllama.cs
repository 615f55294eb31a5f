using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aitbc.E2E.Tests;

/// <summary>
/// The one edge we cannot run here, an Ollama server, speaking its wire format with two faulty models:
/// <see cref="E2ENetwork.BrokenModel"/> answers <c>/api/generate</c> with Ollama's 500 error body, and
/// <see cref="E2ENetwork.StalledModel"/> never answers (until the caller goes away), as a hung GPU would.
/// </summary>
public sealed class FakeOllama : IAsyncDisposable
{
    public const string BrokenError = "llama runner process has terminated: signal: killed";
    private readonly WebApplication _app;
    private int _stalled;

    private FakeOllama(WebApplication app)
    {
        _app = app;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>How many generations are hanging on the stalled model right now.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    public static async Task<FakeOllama> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeOllama(app);
        app.MapGet("/api/tags", () => Results.Json(new
        {
            models = new[] { E2ENetwork.BrokenModel, E2ENetwork.StalledModel }.Select(name => new
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
        if (model == E2ENetwork.StalledModel)
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
        return model == E2ENetwork.BrokenModel
            ? Results.Json(new { error = BrokenError }, statusCode: 500)
            : Results.Json(new { error = $"model '{model}' not found" }, statusCode: 404);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
