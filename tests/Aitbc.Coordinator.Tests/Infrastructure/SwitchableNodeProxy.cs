using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Coordinator.Tests.Infrastructure;

/// <summary>
/// Forwards JSON-RPC to a real node, or answers 503 while <see cref="Down"/>: a node outage a test can switch on and off.
/// It can also hold broadcasts at the door (<see cref="HoldBroadcasts"/>), to catch a submission group in flight.
/// </summary>
public sealed class SwitchableNodeProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _node;

    private SwitchableNodeProxy(WebApplication app, HttpClient node, Uri url)
    {
        _app = app;
        _node = node;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>While true, every call is answered 503, as by a node that is down.</summary>
    public volatile bool Down;

    /// <summary>While true, every call but a broadcast is answered 503: the coordinator can send transactions but not see blocks.</summary>
    public volatile bool Blind;

    private TaskCompletionSource? _broadcastGate;
    private int _broadcastsWaiting;

    /// <summary>From now on, calls that broadcast a transaction (alone or in a batch) wait until <see cref="ReleaseBroadcasts"/>; other calls go through.</summary>
    public void HoldBroadcasts() => Volatile.Write(ref _broadcastGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Lets the held broadcasts (and later ones) through.</summary>
    public void ReleaseBroadcasts() => Interlocked.Exchange(ref _broadcastGate, null)?.TrySetResult();

    /// <summary>Broadcast calls waiting at the door now.</summary>
    public int BroadcastsWaiting => Volatile.Read(ref _broadcastsWaiting);

    public static async Task<SwitchableNodeProxy> StartAsync(Uri nodeUrl)
    {
        var app = LoopbackServer.CreateBuilder().Build();
        var node = new HttpClient { BaseAddress = nodeUrl };
        SwitchableNodeProxy? proxy = null;
        app.MapPost("/", async (HttpContext context) =>
        {
            if (proxy!.Down)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            using var request = new MemoryStream();
            await context.Request.Body.CopyToAsync(request, context.RequestAborted);
            var bytes = request.ToArray();
            var broadcast = System.Text.Encoding.UTF8.GetString(bytes).Contains("\"broadcast_tx", StringComparison.Ordinal);
            if (proxy.Blind && !broadcast)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            if (broadcast && Volatile.Read(ref proxy._broadcastGate) is { } gate)
            {
                Interlocked.Increment(ref proxy._broadcastsWaiting);
                await gate.Task.WaitAsync(context.RequestAborted);
                Interlocked.Decrement(ref proxy._broadcastsWaiting);
            }
            using var body = new ByteArrayContent(bytes);
            body.Headers.ContentType = new("application/json");
            using var answer = await node.PostAsync((Uri?)null, body, context.RequestAborted);
            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = "application/json";
            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        });
        proxy = new SwitchableNodeProxy(app, node, await LoopbackServer.StartAsync(app));
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _node.Dispose();
    }
}
