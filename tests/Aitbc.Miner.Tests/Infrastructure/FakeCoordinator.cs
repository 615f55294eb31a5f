using System.Collections.Concurrent;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>How the fake coordinator misbehaves.</summary>
public enum CoordinatorFault
{
    None,

    /// <summary>Every call answers 500 with a problem body.</summary>
    ServerError,

    /// <summary>Heartbeats answer <c>registered: false</c> until the miner registers again.</summary>
    ForgetRegistration,

    /// <summary><c>complete</c> answers 409 (the job was already decided); other calls succeed.</summary>
    ConflictOnComplete,
}

/// <summary>One call the miner made, with its JSON body and when it arrived (Stopwatch ticks).</summary>
public sealed record CoordinatorCall(string Kind, string? JobId, string? MinerKey, JsonElement Body, long ArrivedAt)
{
    public T Read<T>() => Body.Deserialize<T>(RestJson.Options)!;
}

/// <summary>
/// The coordinator's miner-facing REST API, as the contract records define it: register, heartbeat, and a job's
/// status, complete and fail. Records every call; can fail in the ways a real coordinator does; can be stopped and
/// started again on the same port (a coordinator restart or outage).
/// </summary>
public sealed class FakeCoordinator : IAsyncDisposable
{
    private WebApplication? _app;
    private int _registrations;

    private FakeCoordinator(int port) => Port = port;

    public int Port { get; private set; }

    public Uri Url => new($"http://127.0.0.1:{Port}/");

    public CoordinatorFault Fault { get; set; }

    /// <summary>The interval the coordinator asks for at registration.</summary>
    public int HeartbeatIntervalSeconds { get; set; } = 1;

    /// <summary>The assign key of the latest registration.</summary>
    public string AssignKey { get; private set; } = "";

    public ConcurrentQueue<CoordinatorCall> Calls { get; } = new();

    private readonly ConcurrentDictionary<(string Kind, string JobId), TaskCompletionSource<CoordinatorCall>> _arrivals = new();

    /// <summary>Completes with the first <paramref name="kind"/> call for <paramref name="jobId"/> (now, if it already came).</summary>
    public Task<CoordinatorCall> ArrivalAsync(string kind, string jobId, int timeoutMs = 15_000) =>
        Arrival(kind, jobId).Task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs));

    private TaskCompletionSource<CoordinatorCall> Arrival(string kind, string jobId) =>
        _arrivals.GetOrAdd((kind, jobId), _ => new TaskCompletionSource<CoordinatorCall>(TaskCreationOptions.RunContinuationsAsynchronously));

    public IEnumerable<CoordinatorCall> CallsOf(string kind) => Calls.Where(c => c.Kind == kind);

    /// <summary>Starts on <paramref name="port"/> (0 = a free one).</summary>
    public static async Task<FakeCoordinator> StartNewAsync(int port = 0)
    {
        var fake = new FakeCoordinator(port);
        await fake.StartAsync();
        return fake;
    }

    /// <summary>Starts (again) on the same port.</summary>
    public async Task StartAsync()
    {
        var builder = LoopbackServer.CreateBuilder(Port);
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        var app = builder.Build();
        app.MapPost("/v1/miners/register", (Func<HttpContext, Task<IResult>>)RegisterAsync);
        app.MapPost("/v1/miners/heartbeat", (Func<HttpContext, Task<IResult>>)HeartbeatAsync);
        app.MapPost("/v1/jobs/{id}/status", (HttpContext c, string id) => JobCallAsync(c, "status", id));
        app.MapPost("/v1/jobs/{id}/complete", (HttpContext c, string id) => JobCallAsync(c, "complete", id));
        app.MapPost("/v1/jobs/{id}/fail", (HttpContext c, string id) => JobCallAsync(c, "fail", id));
        Port = (await LoopbackServer.StartAsync(app)).Port;
        _app = app;
    }

    /// <summary>Stops listening: the miner's calls are refused, as when the coordinator is down.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task<IResult> RegisterAsync(HttpContext context)
    {
        var call = await RecordAsync(context, "register", null);
        if (Fault == CoordinatorFault.ServerError)
        {
            return ServerError();
        }
        var registration = call.Read<MinerRegistration>();
        if (string.IsNullOrEmpty(registration.Endpoint) || registration.Capacity < 1)
        {
            return TypedResults.Problem(statusCode: 400, title: "Invalid request");
        }
        Interlocked.Increment(ref _registrations);
        AssignKey = "assign-" + Guid.NewGuid().ToString("N");
        if (Fault == CoordinatorFault.ForgetRegistration)
        {
            Fault = CoordinatorFault.None;
        }
        return TypedResults.Ok(new MinerRegistered("miner-1", "online", AssignKey, HeartbeatIntervalSeconds));
    }

    private async Task<IResult> HeartbeatAsync(HttpContext context)
    {
        await RecordAsync(context, "heartbeat", null);
        return Fault switch
        {
            CoordinatorFault.ServerError => ServerError(),
            CoordinatorFault.ForgetRegistration => TypedResults.Ok(new HeartbeatAck(false, "unknown")),
            _ => TypedResults.Ok(new HeartbeatAck(true, "online")),
        };
    }

    private async Task<IResult> JobCallAsync(HttpContext context, string kind, string jobId)
    {
        await RecordAsync(context, kind, jobId);
        if (Fault == CoordinatorFault.ServerError)
        {
            return ServerError();
        }
        if (Fault == CoordinatorFault.ConflictOnComplete && kind == "complete")
        {
            return TypedResults.Problem(statusCode: 409, title: "Conflict", detail: $"job {jobId} is already failed");
        }
        var status = kind switch { "complete" => JobStatus.Completed, "fail" => JobStatus.Failed, _ => JobStatus.Running };
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
        return TypedResults.Ok(new JobView(jobId, status, "m", "1", null, null, null, null, now, now, null, now));
    }

    private async Task<CoordinatorCall> RecordAsync(HttpContext context, string kind, string? jobId)
    {
        var arrived = System.Diagnostics.Stopwatch.GetTimestamp();
        using var doc = await JsonDocument.ParseAsync(context.Request.Body);
        var call = new CoordinatorCall(kind, jobId, context.Request.Headers[CoordinatorHeaders.MinerKey].ToString(), doc.RootElement.Clone(), arrived);
        Calls.Enqueue(call);
        if (jobId is not null)
        {
            Arrival(kind, jobId).TrySetResult(call);
        }
        return call;
    }

    private static IResult ServerError() => TypedResults.Problem(statusCode: 500, title: "Internal Server Error", detail: "the coordinator broke");

    public int Registrations => _registrations;

    public async ValueTask DisposeAsync() => await StopAsync();
}
