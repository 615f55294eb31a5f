using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Testing;

/// <summary>How a fake backend server misbehaves.</summary>
public enum BackendFault
{
    None,

    /// <summary>500 with the server's error body.</summary>
    ServerError,

    /// <summary>200, a few chunks, then an error (Ollama's <c>{"error":…}</c> line).</summary>
    MidStreamError,

    /// <summary>Starts answering, then says nothing more until the client gives up.</summary>
    Stall,

    /// <summary>Never answers at all, not even a status, until the client gives up: a hung GPU.</summary>
    Hang,

    /// <summary>Drops the connection part-way through the answer.</summary>
    Disconnect,

    /// <summary>Ends a stream cleanly but early: no final <c>done</c> line.</summary>
    Truncate,

    /// <summary>Sends a line that is not JSON.</summary>
    Garbage,
}

/// <summary>
/// The Kestrel plumbing the fake Ollama and OpenAI-compatible servers share: a free loopback port, the request
/// bodies seen, and signals for a request that arrived and one the client aborted.
/// </summary>
public abstract class FakeServer : IAsyncDisposable
{
    private WebApplication? _app;
    private TaskCompletionSource _requestArrived = NewSignal();
    private TaskCompletionSource _requestAborted = NewSignal();
    private int _stalled;

    public Uri Url { get; private set; } = null!;

    /// <summary>How every request misbehaves from now on; <see cref="BackendFault.None"/> leaves each to its own ways.</summary>
    public BackendFault Fault { get; set; }

    /// <summary>The JSON bodies of the generation requests, in order.</summary>
    public ConcurrentQueue<JsonElement> Requests { get; } = new();

    /// <summary>The <c>Authorization</c> headers seen, in order ("" when absent).</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    /// <summary>Completes when a generation request has reached the handler.</summary>
    public Task RequestArrived => _requestArrived.Task;

    /// <summary>Completes when a stalled request was aborted by the client.</summary>
    public Task RequestAborted => _requestAborted.Task;

    /// <summary>How many requests are stalled right now, waiting for their client to give up.</summary>
    public int Stalled => Volatile.Read(ref _stalled);

    protected async Task ListenAsync(CancellationToken cancellationToken)
    {
        _app = LoopbackServer.CreateBuilder().Build();
        Map(_app);
        Url = await LoopbackServer.StartAsync(_app, cancellationToken);
    }

    protected abstract void Map(WebApplication app);

    /// <summary>Reads and records a generation request's body, and signals its arrival.</summary>
    protected async Task<JsonElement> ReceiveAsync(HttpContext context)
    {
        using var doc = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        var body = doc.RootElement.Clone();
        Requests.Enqueue(body);
        Authorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        _requestArrived.TrySetResult();
        return body;
    }

    /// <summary>Holds the request open until the client aborts it, then signals that.</summary>
    protected async Task StallAsync(HttpContext context)
    {
        Interlocked.Increment(ref _stalled);
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            _requestAborted.TrySetResult();
        }
        finally
        {
            Interlocked.Decrement(ref _stalled);
        }
    }

    protected static Task WriteJsonAsync(HttpContext context, int status, object body, JsonSerializerOptions? options = null)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, options));
    }

    /// <summary>A loopback URL on which nothing listens: connecting to it is refused.</summary>
    public static Uri ClosedPortUrl()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            // Disposing without a graceful stop aborts what is still in flight at once, a stalled request included.
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
