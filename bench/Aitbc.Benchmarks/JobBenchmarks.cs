using System.Text;
using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using BenchmarkDotNet.Attributes;

namespace Aitbc.Benchmarks;

/// <summary>
/// The coordinator's per-job work outside HTTP: admitting a request (parse, canonical request hash, validation, payload
/// hash, signed escrow transaction) and storing it (one job and its outbox row in SQLite, alone or in a group as the
/// submission writer does).
/// </summary>
[MemoryDiagnoser]
public class JobAdmissionBenchmarks
{
    private const int Group = 256;
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"type":"inference","prompt":"Summarise the rules of chess in one paragraph.","model":"llama3.2:1b","options":{"temperature":0.2,"num_predict":256},"max_price":"0.5"}""");

    private readonly CoordinatorOptions _options = new();
    private readonly Ed25519KeyPair _coordinatorKey = Ed25519KeyPair.FromSeed(new byte[32]);
    private readonly Address _client = Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)3, 32).ToArray()).Address;
    private string _dir = "";
    private CoordinatorStore _store = null!;
    private long _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _dir = Path.Combine(Path.GetTempPath(), $"aitbc-bench-jobs-{Guid.NewGuid():N}");
        _store = CoordinatorStore.Create(null, Path.Combine(_dir, "coordinator.db"));
        await _store.MigrateAsync(default);
        await _store.InsertApiKeyAsync(new ApiKeyRecord("key_bench", Roles.Client, "hash", _client.Value, null, 1), default);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>Everything the coordinator computes for one POST /v1/jobs before storing it.</summary>
    [Benchmark]
    public SignedTransaction Admit()
    {
        using var document = JsonDocument.Parse(Body);
        _ = JobService.RequestHash(document.RootElement);
        var submission = JobRequestParser.Parse(document.RootElement, _options, out _) ?? throw new InvalidOperationException("invalid body");
        var body = new SubmitJobBody("job_" + Interlocked.Increment(ref _next), _client, submission.PayloadHash(), submission.MaxPrice);
        return new UnsignedTransaction("bench", _coordinatorKey.PublicKey, (ulong)_next, body).Sign(_coordinatorKey);
    }

    /// <summary>One job and its signed outbox row in one SQLite transaction (WAL, synchronous=NORMAL).</summary>
    [Benchmark]
    public async Task<long> StoreOne() => (await _store.InsertJobsAsync([(NewJob(), NewRow())], default))[0];

    /// <summary>Per job, when the submission writer stores a group of 256 in one transaction.</summary>
    [Benchmark(OperationsPerInvoke = Group)]
    public Task<IReadOnlyList<long>> StoreInGroupOf256() =>
        _store.InsertJobsAsync([.. Enumerable.Range(0, Group).Select(_ => (NewJob(), NewRow()))], default);

    private JobRecord NewJob()
    {
        var id = "job_" + Interlocked.Increment(ref _next);
        return new JobRecord(id, _client.Value, "key_bench", JobStatus.Pending, "llama3.2:1b", "Summarise the rules of chess in one paragraph.",
            """{"num_predict":256,"temperature":0.2}""", 500_000, "payload-hash", null, null, _next, null, null, _next + 60_000, null, null, null, null);
    }

    private OutboxRecord NewRow() =>
        new(0, "job_" + _next, OutboxKind.SubmitJob, "{}", OutboxStatus.Pending, 0, null, (ulong)_next, "tx-hash", null, _next, _next, null);
}

/// <summary>The scheduler's choice of miner for one job among eligible candidates.</summary>
public class SchedulingBenchmarks
{
    private (MinerRecord, Amount)[] _candidates = [];

    [Params(10, 100)]
    public int Miners { get; set; }

    [GlobalSetup]
    public void Setup() => _candidates = [.. Enumerable.Range(0, Miners).Select(i => (
        new MinerRecord($"aitbc1miner{i:D4}", "pub", "key", "http://127.0.0.1:1/", ["llama3.2:1b"], 4, i % 4, 1_000 + (ulong)(i * 37 % 500),
            null, null, 0, 0, (i * 7 % 10) / 10.0, i, 0, 0),
        new Amount((ulong)(i + 1) * 1_000_000)))];

    [Benchmark]
    public MinerRecord Rank() => MinerRanking.Rank(_candidates)[0];
}
