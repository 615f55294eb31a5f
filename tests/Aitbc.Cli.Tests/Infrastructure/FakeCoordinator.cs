using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Proofs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Cli.Tests.Infrastructure;

/// <summary>How the fake fails the next requests.</summary>
public enum Fault
{
    /// <summary>503 with a problem body and <c>Retry-After: 0</c>, before doing anything.</summary>
    Unavailable,

    /// <summary>429 with a problem body and <c>Retry-After: 1</c>, before doing anything.</summary>
    RateLimited,

    /// <summary>The connection is reset before the request is handled.</summary>
    ResetBefore,

    /// <summary>The request is handled (a job is made), then the connection is reset: the answer is lost.</summary>
    ResetAfter,
}

/// <summary>
/// A test double of the coordinator at the HTTP boundary: Kestrel on a loopback port speaking the contract records
/// (docs/protocol.md), with problem bodies, key roles, Idempotency-Key replay, scripted job progress and injectable faults.
/// </summary>
public sealed class FakeCoordinator : IAsyncDisposable
{
    public const string ClientKey = "client-key-1";
    public const string AdminKey = "admin-key-1";

    /// <summary>A client key that is always rate limited (429 with Retry-After).</summary>
    public const string LimitedKey = "limited-key";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeJob> _jobs = new();
    private readonly ConcurrentDictionary<string, JobAccepted> _replays = new();
    private readonly ConcurrentQueue<Fault> _faults = new();
    private int _nextJob;

    private FakeCoordinator(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>Requests that reached the fake, faults included.</summary>
    public int Requests => _requests;

    private int _requests;

    public int JobsCreated => _jobs.Count;

    /// <summary>The Idempotency-Key of every <c>POST /v1/jobs</c> attempt, in order.</summary>
    public ConcurrentQueue<string?> IdempotencyKeys { get; } = new();

    public ConcurrentQueue<JobSubmission> Submissions { get; } = new();

    public ConcurrentDictionary<string, Receipt> Receipts { get; } = new();

    public MarketMiners Miners { get; set; } = new([]);

    public MarketMiners AdminMiners { get; set; } = new([]);

    public MarketModels Models { get; set; } = new([]);

    public MarketStats Stats { get; set; } = new(0, 0, 0, 0, 0, new Dictionary<string, long>(), 0, "0");

    /// <summary>What each new job becomes on its later GETs (default: it stays pending).</summary>
    public Func<string, JobView[]> PlanNewJobs { get; set; } = _ => [];

    public ApiKeyRequest? LastKeyRequest { get; private set; }

    public string? LastRevokedKey { get; private set; }

    public string? LastAdminStatus { get; private set; }

    public static async Task<FakeCoordinator> StartAsync()
    {
        var app = LoopbackServer.CreateBuilder().Build();
        var fake = new FakeCoordinator(app);
        fake.Map(app);
        fake.Url = await LoopbackServer.StartAsync(app);
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Fails the next <paramref name="count"/> requests with <paramref name="fault"/>.</summary>
    public void FailNext(int count, Fault fault)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(fault);
        }
    }

    /// <summary>Adds a job as the client key's; each later GET moves it to the next of <paramref name="then"/>.</summary>
    public void AddJob(JobView job, params JobView[] then)
    {
        _jobs[job.JobId] = new FakeJob(job, new Queue<JobView>(then));
        // Jobs submitted later get higher numbers, never an added one's id.
        if (int.TryParse(job.JobId.Split('_')[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n < 1_000_000)
        {
            _nextJob = Math.Max(_nextJob, n);
        }
    }

    public JobView Job(string id) => _jobs[id].Current;

    /// <summary>A pending job as the fake makes them.</summary>
    public static JobView Pending(string id, string model = "llama3.2:latest") =>
        new(id, JobStatus.Pending, model, "1", null, null, null, null, "2025-01-29T14:50:01.000Z", null, null, "2025-01-29T15:00:01.000Z");

    /// <summary>The seed's completed job: 17 seconds after submission, 0.25 AITBC.</summary>
    public static JobView Completed(string id, string result = "Machine learning is a subset of artificial intelligence...") =>
        Pending(id) with
        {
            Status = JobStatus.Completed,
            Result = result,
            ReceiptId = "receipt_789",
            Cost = "0.25",
            StartedAt = "2025-01-29T14:50:05.000Z",
            CompletedAt = "2025-01-29T14:50:18.000Z",
        };

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref _requests);
            if (_faults.TryPeek(out var fault) && fault != Fault.ResetAfter && _faults.TryDequeue(out fault))
            {
                if (fault == Fault.ResetBefore)
                {
                    context.Abort();
                    return;
                }
                if (fault == Fault.RateLimited)
                {
                    context.Response.Headers.RetryAfter = "1";
                    await Problem(429, "Too Many Requests", "slow down").ExecuteAsync(context);
                    return;
                }
                context.Response.Headers.RetryAfter = "0";
                await Problem(503, "Service Unavailable", "the coordinator is starting").ExecuteAsync(context);
                return;
            }
            await next(context);
        });

        app.MapPost("/v1/jobs", async (HttpContext http) =>
        {
            if (Authenticate(http, admin: false) is { } refused)
            {
                return refused;
            }
            var key = http.Request.Headers["Idempotency-Key"].FirstOrDefault();
            IdempotencyKeys.Enqueue(key);
            var job = await JsonSerializer.DeserializeAsync<JobSubmission>(http.Request.Body, RestJson.Options);
            var errors = new Dictionary<string, string[]>();
            if (string.IsNullOrWhiteSpace(job?.Prompt))
            {
                errors["prompt"] = ["prompt must not be empty"];
            }
            if (job?.Model == "no-such-model")
            {
                errors["model"] = ["no online miner serves model no-such-model"];
            }
            if (errors.Count > 0)
            {
                return Results.ValidationProblem(errors, "the job is not valid", statusCode: 400);
            }
            if (job!.MaxPrice is { } price && decimal.Parse(price, CultureInfo.InvariantCulture) > 100)
            {
                return Problem(402, "Payment Required", $"the wallet has approved 5 AITBC for the coordinator; this job's budget is {price} AITBC");
            }
            Submissions.Enqueue(job);
            var replayKey = $"{ClientKey}/{key}";
            if (key is not null && _replays.TryGetValue(replayKey, out var first))
            {
                return Results.Json(first, RestJson.Options, statusCode: 201);
            }
            var id = $"job_{Interlocked.Increment(ref _nextJob).ToString(CultureInfo.InvariantCulture)}";
            var accepted = new JobAccepted(id, JobStatus.Pending, "2025-01-29T14:50:01.000Z");
            _jobs[id] = new FakeJob(Pending(id, job.Model), new Queue<JobView>(PlanNewJobs(id)));
            if (key is not null)
            {
                _replays[replayKey] = accepted;
            }
            if (_faults.TryPeek(out var fault) && fault == Fault.ResetAfter && _faults.TryDequeue(out _))
            {
                http.Abort();
                return Results.Empty;
            }
            return Results.Json(accepted, RestJson.Options, statusCode: 201);
        });

        app.MapGet("/v1/jobs/{id}", (HttpContext http, string id) =>
        {
            if (Authenticate(http, admin: false) is { } refused)
            {
                return refused;
            }
            if (!_jobs.TryGetValue(id, out var job))
            {
                return Problem(404, "Not Found", $"job {id} not found");
            }
            return Results.Json(job.Advance(), RestJson.Options);
        });

        app.MapGet("/v1/jobs", (HttpContext http, int? limit, string? cursor) =>
            Authenticate(http, admin: false) ?? Results.Json(Page(limit, cursor, null), RestJson.Options));

        app.MapPost("/v1/jobs/{id}/cancel", (HttpContext http, string id) =>
        {
            if (Authenticate(http, admin: false) is { } refused)
            {
                return refused;
            }
            if (!_jobs.TryGetValue(id, out var job))
            {
                return Problem(404, "Not Found", $"job {id} not found");
            }
            if (job.Current.Status is not (JobStatus.Pending or JobStatus.Assigned))
            {
                return Problem(409, "Conflict", $"job {id} is {job.Current.Status}; only pending or assigned jobs can be cancelled");
            }
            job.Current = job.Current with { Status = JobStatus.Cancelled, Error = "cancelled by the client", CompletedAt = "2025-01-29T14:50:02.000Z" };
            return Results.Json(job.Current, RestJson.Options);
        });

        app.MapGet("/v1/receipts/{id}", (HttpContext http, string id) =>
            Authenticate(http, admin: false) ?? (Receipts.TryGetValue(id, out var receipt)
                ? Results.Json(receipt, RestJson.Options)
                : Problem(404, "Not Found", $"receipt {id} not found")));

        app.MapGet("/v1/market/miners", (HttpContext http) => Authenticate(http, admin: false) ?? Results.Json(Miners, RestJson.Options));
        app.MapGet("/v1/market/models", (HttpContext http) => Authenticate(http, admin: false) ?? Results.Json(Models, RestJson.Options));
        app.MapGet("/v1/market/stats", (HttpContext http) => Authenticate(http, admin: false) ?? Results.Json(Stats, RestJson.Options));

        app.MapPost("/v1/admin/keys", async (HttpContext http) =>
        {
            if (Authenticate(http, admin: true) is { } refused)
            {
                return refused;
            }
            var request = (await JsonSerializer.DeserializeAsync<ApiKeyRequest>(http.Request.Body, RestJson.Options))!;
            LastKeyRequest = request;
            return Results.Json(new ApiKeyCreated("key_1", "aitbc_sk_new", request.Role, request.Address, request.MinerPubKey, "2025-01-29T14:00:00.000Z"),
                RestJson.Options, statusCode: 201);
        });
        app.MapDelete("/v1/admin/keys/{id}", (HttpContext http, string id) =>
        {
            if (Authenticate(http, admin: true) is { } refused)
            {
                return refused;
            }
            if (id != "3f9a0c21b7de")
            {
                return Problem(404, "Not Found", "no such key");
            }
            LastRevokedKey = id;
            return Results.NoContent();
        });
        app.MapGet("/v1/admin/miners", (HttpContext http) => Authenticate(http, admin: true) ?? Results.Json(AdminMiners, RestJson.Options));
        app.MapGet("/v1/admin/jobs", (HttpContext http, string? status, int? limit, string? cursor) =>
        {
            if (Authenticate(http, admin: true) is { } refused)
            {
                return refused;
            }
            LastAdminStatus = status;
            return Results.Json(Page(limit, cursor, status), RestJson.Options);
        });
    }

    /// <summary>Newest first; the cursor is the index of the next job.</summary>
    private JobPage Page(int? limit, string? cursor, string? status)
    {
        var all = _jobs.Values.Select(j => j.Current).Where(j => status is null || j.Status == status)
            .OrderByDescending(j => int.Parse(j.JobId.Split('_')[^1], CultureInfo.InvariantCulture)).ToList();
        var start = cursor is null ? 0 : int.Parse(cursor, CultureInfo.InvariantCulture);
        var take = limit ?? 50;
        var page = all.Skip(start).Take(take).ToList();
        return new JobPage(page, start + take < all.Count ? (start + take).ToString(CultureInfo.InvariantCulture) : null);
    }

    private static IResult? Authenticate(HttpContext http, bool admin)
    {
        var key = http.Request.Headers["X-Api-Key"].FirstOrDefault();
        if (key is null)
        {
            return Problem(401, "Unauthorized", "missing X-Api-Key header");
        }
        if (key == LimitedKey)
        {
            http.Response.Headers.RetryAfter = "7";
            return Problem(429, "Too Many Requests", "rate limit of 10 requests per second exceeded");
        }
        if (key is not (ClientKey or AdminKey))
        {
            return Problem(401, "Unauthorized", "unknown API key");
        }
        if (admin && key != AdminKey)
        {
            return Problem(403, "Forbidden", "this endpoint needs an admin key");
        }
        return null;
    }

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail, statusCode: status, title: title);

    private sealed class FakeJob(JobView job, Queue<JobView> plan)
    {
        public JobView Current { get; set; } = job;

        public JobView Advance()
        {
            lock (plan)
            {
                if (plan.TryDequeue(out var next))
                {
                    Current = next;
                }
                return Current;
            }
        }
    }
}
