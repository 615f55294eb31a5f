using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>
/// A fake validator for followers: passes JSON-RPC POSTs (single or batch) through to a real validator, and lets a
/// test rewrite the result of chosen calls on the way back — a validator that serves a tampered block.
/// </summary>
public sealed class TamperingProxy : IAsyncDisposable
{
    /// <summary>Given the method, its params and its result, changes the result in place; returns whether it did.</summary>
    public delegate bool Tamper(string method, JsonObject parameters, JsonObject result);

    private readonly WebApplication _app;
    private readonly HttpClient _upstream;
    private readonly Tamper _tamper;
    private int _tampered;

    private TamperingProxy(WebApplication app, HttpClient upstream, Tamper tamper)
    {
        _app = app;
        _upstream = upstream;
        _tamper = tamper;
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>How many answers were altered so far.</summary>
    public int TamperedCount => Volatile.Read(ref _tampered);

    public static async Task<TamperingProxy> StartAsync(Uri upstream, Tamper tamper)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var proxy = new TamperingProxy(app, new HttpClient { BaseAddress = upstream, Timeout = TimeSpan.FromSeconds(30) }, tamper);
        app.MapPost("/", proxy.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        proxy.Url = new Uri(address.EndsWith('/') ? address : address + "/");
        return proxy;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await _upstream.PostAsync("", content, context.RequestAborted);
        var answer = await response.Content.ReadAsStringAsync(context.RequestAborted);
        var request = JsonNode.Parse(body);
        var parsed = JsonNode.Parse(answer);
        if (request is JsonArray requests && parsed is JsonArray answers)
        {
            var byId = requests.OfType<JsonObject>().Where(r => r["id"] is not null).ToDictionary(r => r["id"]!.ToJsonString());
            foreach (var item in answers.OfType<JsonObject>())
            {
                if (item["id"] is { } id && byId.TryGetValue(id.ToJsonString(), out var call))
                {
                    Apply(call, item);
                }
            }
        }
        else if (request is JsonObject single && parsed is JsonObject one)
        {
            Apply(single, one);
        }
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(parsed?.ToJsonString() ?? answer, context.RequestAborted);
    }

    private void Apply(JsonObject call, JsonObject answer)
    {
        if (call["method"]?.GetValue<string>() is { } method && answer["result"] is JsonObject result
            && _tamper(method, call["params"] as JsonObject ?? [], result))
        {
            Interlocked.Increment(ref _tampered);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }
}
