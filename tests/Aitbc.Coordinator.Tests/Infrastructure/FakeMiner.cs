using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Coordinator.Tests.Infrastructure;

/// <summary>What a fake miner does with an assignment.</summary>
public enum MinerMode
{
    /// <summary>202, then /status running and /complete with a real signed proof.</summary>
    Complete,

    /// <summary>202 and nothing more: the test drives /status, /complete and /fail itself.</summary>
    Hold,

    /// <summary>409 (lacks the model).</summary>
    Refuse409,

    /// <summary>503 (busy).</summary>
    Refuse503,

    /// <summary>202, then /status running and /fail.</summary>
    Fail,
}

/// <summary>
/// A miner speaking the miner contract on a loopback port: checks the coordinator's assign key, answers, and reports back
/// with proofs signed by its Ed25519 key, which is registered on chain (register_miner with stake) and bound to its
/// miner API key.
/// </summary>
public sealed class FakeMiner : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<JobAssignment> _assigned = Channel.CreateUnbounded<JobAssignment>();
    private string? _assignKey;

    private FakeMiner(WebApplication app, Ed25519KeyPair key, HttpClient coordinator, string apiKey)
    {
        _app = app;
        Key = key;
        Coordinator = coordinator;
        ApiKey = apiKey;
    }

    public Ed25519KeyPair Key { get; }

    public Address Address => Key.Address;

    /// <summary>An HTTP client to the coordinator sending this miner's key in X-Miner-Key.</summary>
    public HttpClient Coordinator { get; }

    public string ApiKey { get; }

    public MinerMode Mode { get; set; }

    /// <summary>Seconds the fake reports as compute_time; it also waits this long (capped at 1 s) before completing.</summary>
    public double ComputeTime { get; set; } = 0.3;

    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The key the coordinator gave at the last registration, which it must present with assignments.</summary>
    public string? AssignKey => _assignKey;

    public int AssignmentsSeen;

    public int WrongKeyAttempts;

    /// <summary>
    /// Stakes <paramref name="stake"/> on chain with funded wallet <paramref name="wallet"/>, gets a miner key from the admin, starts
    /// listening and registers with the coordinator.
    /// </summary>
    public static async Task<FakeMiner> StartAsync(CoordinatorFixture fixture, int wallet, string model, string price = "1", string stake = "100", int capacity = 4,
        MinerMode mode = MinerMode.Complete, RunningCoordinator? coordinator = null)
    {
        coordinator ??= fixture.Coordinator;
        var key = fixture.Node.Funded[wallet];
        if (await fixture.Chain.GetMinerAsync(key.Address) is null && stake != "0")
        {
            var sender = await TxSender.CreateAsync(fixture.Chain, key);
            var registered = await sender.SendAndCommitAsync(new RegisterMinerBody(Amount.ParseAitbc(stake)));
            Assert.True(registered.IsOk, registered.Log);
        }
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        var apiKey = await CoordinatorFixture.CreateKeyAsync(admin, new { role = "miner", miner_pub_key = key.PublicKey.Base64 });

        var app = LoopbackServer.CreateBuilder().Build();
        var miner = new FakeMiner(app, key, coordinator.Http(apiKey, "X-Miner-Key"), apiKey) { Mode = mode };
        app.MapPost("/v1/jobs/assign", (Delegate)miner.AssignAsync);
        miner.Endpoint = await LoopbackServer.StartAsync(app);
        await miner.RegisterAsync(model, price, capacity);
        return miner;
    }

    /// <summary>Registers (again) with the coordinator; <paramref name="endpoint"/> overrides where assignments go (an unreachable miner).</summary>
    public async Task<MinerRegistered> RegisterAsync(string model, string price = "1", int capacity = 4, string? endpoint = null)
    {
        using var response = await Coordinator.PostAsJsonAsync("v1/miners/register",
            new MinerRegistration(endpoint ?? Endpoint.AbsoluteUri, [model], capacity, price, new GpuDescription("Fake GPU", 24_576, 1)), RestJson.Options);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        var registered = System.Text.Json.JsonSerializer.Deserialize<MinerRegistered>(text, RestJson.Options)!;
        _assignKey = registered.AssignKey;
        return registered;
    }

    public async Task<HeartbeatAck> HeartbeatAsync(string model, int inFlight = 0)
    {
        using var response = await Coordinator.PostAsJsonAsync("v1/miners/heartbeat", new MinerHeartbeat([model], inFlight, 12.5), RestJson.Options);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<HeartbeatAck>(RestJson.Options))!;
    }

    /// <summary>The next assignment this miner accepted.</summary>
    public async Task<JobAssignment> NextAssignmentAsync(int timeoutMs = 10_000)
    {
        using var timeout = new CancellationTokenSource(timeoutMs);
        return await _assigned.Reader.ReadAsync(timeout.Token);
    }

    public Task<HttpResponseMessage> StatusAsync(string jobId) =>
        Coordinator.PostAsJsonAsync($"v1/jobs/{jobId}/status", new JobStatusUpdate("running", DateTimeOffset.UtcNow.ToString("O")), RestJson.Options);

    /// <summary>The completion this miner would send for <paramref name="assignment"/>: result, metrics and a proof signed by <paramref name="signer"/> (itself by default).</summary>
    public JobCompletion Completion(JobAssignment assignment, string? result = null, Ed25519KeyPair? signer = null, string? hashOverride = null)
    {
        result ??= "echo: " + assignment.JobData.Prompt;
        var resultHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(result)));
        var promptHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(assignment.JobData.Prompt)));
        var proof = new MinerProof(assignment.JobId, assignment.JobData.Model, promptHash, resultHash, ComputeTime, 42);
        return new JobCompletion(assignment.JobId, result, new JobMetrics(ComputeTime, 42, 7), new ProofEnvelope(hashOverride ?? resultHash, proof.Sign(signer ?? Key)));
    }

    public Task<HttpResponseMessage> CompleteAsync(JobCompletion completion) =>
        Coordinator.PostAsJsonAsync($"v1/jobs/{completion.JobId}/complete", completion, RestJson.Options);

    public Task<HttpResponseMessage> FailAsync(string jobId, string error = "out of memory") =>
        Coordinator.PostAsJsonAsync($"v1/jobs/{jobId}/fail", new JobFailure(error), RestJson.Options);

    private async Task<IResult> AssignAsync(HttpContext context)
    {
        if (context.Request.Headers["X-Api-Key"] != _assignKey)
        {
            Interlocked.Increment(ref WrongKeyAttempts);
            return Results.Problem(statusCode: 401, detail: "wrong assign key");
        }
        var assignment = (await context.Request.ReadFromJsonAsync<JobAssignment>(RestJson.Options))!;
        Interlocked.Increment(ref AssignmentsSeen);
        switch (Mode)
        {
            case MinerMode.Refuse409:
                return Results.Problem(statusCode: 409, detail: "model not loaded");
            case MinerMode.Refuse503:
                return Results.Problem(statusCode: 503, detail: "busy");
        }
        _assigned.Writer.TryWrite(assignment);
        var mode = Mode;
        if (mode is MinerMode.Complete or MinerMode.Fail)
        {
            _ = Task.Run(() => RunAsync(assignment, mode));
        }
        return Results.Json(new AssignmentAccepted(assignment.JobId, "accepted"), RestJson.Options, statusCode: 202);
    }

    private async Task RunAsync(JobAssignment assignment, MinerMode mode)
    {
        // The coordinator marks the job assigned before pushing it; report once our 202 is on its way.
        await Task.Delay(20);
        using (await StatusAsync(assignment.JobId))
        {
        }
        await Task.Delay(TimeSpan.FromSeconds(Math.Min(ComputeTime, 1)));
        using var response = mode == MinerMode.Fail ? await FailAsync(assignment.JobId) : await CompleteAsync(Completion(assignment));
    }

    public async ValueTask DisposeAsync()
    {
        Coordinator.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
