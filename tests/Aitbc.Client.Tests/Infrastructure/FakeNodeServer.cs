using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Client.Tests.Infrastructure;

/// <summary>
/// A small HTTP server on a free port that answers each POST with the next scripted response (the last one repeats),
/// counting the calls: the flaky node of the retry tests.
/// </summary>
public sealed class FakeNodeServer : IAsyncDisposable
{
    /// <summary>A healthy node's answer to <c>health</c>.</summary>
    public const string HealthAnswer = """{"jsonrpc":"2.0","id":1,"result":{}}""";

    private readonly WebApplication _app;
    private readonly IReadOnlyList<Func<HttpContext, Task>> _script;
    private int _calls;

    private FakeNodeServer(WebApplication app, IReadOnlyList<Func<HttpContext, Task>> script)
    {
        _app = app;
        _script = script;
    }

    public Uri Url { get; private set; } = null!;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Fires on each call with the count so far.</summary>
    public event Action<int>? Called;

    /// <summary>Waits (in real time, at most 10 s) until the server has seen <paramref name="count"/> calls.</summary>
    public async Task WaitForCallsAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Calls < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the server saw {Calls} calls, not {count}");
            await Task.Delay(5);
        }
    }

    public static async Task<FakeNodeServer> StartAsync(params Func<HttpContext, Task>[] script)
    {
        var app = LoopbackServer.CreateBuilder().Build();
        var server = new FakeNodeServer(app, script);
        app.MapPost("/", server.HandleAsync);
        server.Url = await LoopbackServer.StartAsync(app);
        return server;
    }

    private Task HandleAsync(HttpContext context)
    {
        var call = Interlocked.Increment(ref _calls);
        Called?.Invoke(call);
        return _script[Math.Min(call, _script.Count) - 1](context);
    }

    public static Func<HttpContext, Task> Status(int status, string? retryAfter = null) => context =>
    {
        context.Response.StatusCode = status;
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
        return context.Response.WriteAsync("try later");
    };

    public static Func<HttpContext, Task> Json(string body) => context =>
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body);
    };

    public static Func<HttpContext, Task> Healthy => Json(HealthAnswer);

    /// <summary>Never answers; lets go when the client gives up on the request.</summary>
    public static Func<HttpContext, Task> Hang => async context =>
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
