using System.Globalization;
using System.Text;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Devnet;
using Aitbc.Testing;
using Microsoft.Data.Sqlite;

namespace Aitbc.Load;

/// <summary>Settings of a timeline run.</summary>
public sealed record TimelineOptions(int Runs, int BackendLatencyMs, bool Embedded, int BlockIntervalMs);

/// <summary>One of the seed's steps and, per backend, the median time at which ours reached it (ms after the client began).</summary>
public sealed record TimelineStep(int Step, string Seed, double SeedSeconds, string Ours, double? FakeMs, double? EmbeddedMs);

/// <summary>
/// One job at a time through the real path (the client library the CLI uses → coordinator → escrow on chain → miner →
/// backend → completion → receipt on chain → the client's long-poll returns), on the network <c>aitbc up</c> starts,
/// timing each of the 14 steps of the seed's "Message Flow Timeline" as they map onto ours (docs/architecture.md, "The job's path").
/// Every time is on one clock, the machine's: the client's, the coordinator's stored timestamps (ms), the fake
/// backend's arrival and answer, the outbox rows' send and confirmation times (read from the coordinator's database)
/// and the block times of the escrow's and the receipt's blocks.
/// </summary>
public static class Timeline
{
    /// <summary>The seed's timeline, as written there (seconds after the user's command).</summary>
    private static readonly (string Step, double Seconds, string Ours)[] Seed =
    [
        ("Python client called", 0.1, "client library called (in process; the `aitbc` CLI's own start is not timed)"),
        ("HTTP POST to Coordinator", 0.2, "POST /v1/jobs sent"),
        ("Coordinator validates and creates job", 0.3, "job stored (its submitted_at)"),
        ("RPC to Blockchain", 0.4, "submit_job signed and stored, broadcast begins (outbox row created)"),
        ("Transaction in mempool", 0.5, "broadcast_tx_sync answered: escrow tx in the mempool (outbox sent_at)"),
        ("Job queued for miner", 1.0, "POST answered 202: job pending in the queue"),
        ("Miner assigned", 2.0, "job assigned to a miner (assigned_at)"),
        ("Miner accepts job", 2.1, "miner reports running (started_at)"),
        ("Ollama request", 2.2, "backend request arrives"),
        ("Inference complete (12.5s processing)", 14.7, "backend answer written"),
        ("Result to Coordinator", 14.8, "completion stored (completed_at)"),
        ("Receipt generated", 15.0, "receipt signed and stored (issued_at; same transaction)"),
        ("Receipt on Blockchain", 15.1, "record_receipt in a block (that block's time)"),
        ("Client polls and gets result", 17.0, "client's long-poll returns the completed job"),
    ];

    public static async Task<IReadOnlyList<TimelineStep>> RunAsync(TimelineOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var fake = await MeasureAsync(options, embedded: false, log, cancellationToken);
        var embedded = options.Embedded ? await MeasureAsync(options, embedded: true, log, cancellationToken) : null;
        return [.. Seed.Select((s, i) => new TimelineStep(i + 1, s.Step, s.Seconds, s.Ours,
            fake[i], embedded?[i]))];
    }

    /// <summary>Medians, per step, over the runs; null where a backend gives no time for the step.</summary>
    private static async Task<double?[]> MeasureAsync(TimelineOptions options, bool embedded, TextWriter log, CancellationToken cancellationToken)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"aitbc-timeline-{Guid.NewGuid():N}");
        await using var backend = await BenchOllama.StartAsync(TimeSpan.FromMilliseconds(options.BackendLatencyMs), cancellationToken);
        var devnet = await LocalNetwork.StartAsync(new DevnetOptions
        {
            DataDirectory = dataDir,
            PortBase = 0,
            Backend = embedded ? DevnetBackend.Embedded : DevnetBackend.Ollama,
            BackendUrl = embedded ? null : backend.Url,
            Miners = 1,
            MinerPricePerSecond = new Amount(1),
            BlockIntervalMs = options.BlockIntervalMs,
        }, cancellationToken: cancellationToken);
        try
        {
            var model = embedded ? devnet.Models[0] : BenchOllama.Model;
            log.WriteLine($"timeline on {(embedded ? $"the embedded model ({model})" : $"the fake backend ({options.BackendLatencyMs} ms)")}: {options.Runs} runs + 1 warm-up");
            using var client = CoordinatorClient.Create(devnet.CoordinatorUrl, devnet.State.ClientApiKey);
            using var node = NodeClient.Create(devnet.NodeUrl);
            var database = Path.Combine(devnet.Options.CoordinatorDirectory, "data", "coordinator.db");
            var runs = new List<double?[]>();
            for (var run = 0; run <= options.Runs; run++)
            {
                var times = await OneJobAsync(client, node, database, model, embedded ? null : backend, cancellationToken);
                if (run > 0)
                {
                    runs.Add(times);
                    log.WriteLine($"run {run}: " + string.Join(" ", times.Select(t => t is { } v ? v.ToString("0", CultureInfo.InvariantCulture) : "–")));
                }
            }
            return [.. Enumerable.Range(0, Seed.Length).Select(i =>
                runs.All(r => r[i] is not null) ? ScaleLoad.Median(runs.Select(r => r[i]!.Value)) : (double?)null)];
        }
        finally
        {
            await devnet.DisposeAsync();
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>One job; each step's time in ms after the client began (t0).</summary>
    private static async Task<double?[]> OneJobAsync(CoordinatorClient client, NodeClient node, string database, string model, FakeOllama? backend, CancellationToken cancellationToken)
    {
        var t0 = DateTimeOffset.UtcNow;
        var posted = DateTimeOffset.UtcNow;
        var accepted = await client.SubmitJobAsync(new JobSubmission("inference", "What is machine learning?", model, MaxPrice: "1"), cancellationToken: cancellationToken);
        var answered = DateTimeOffset.UtcNow;
        JobView job;
        do
        {
            job = await client.GetJobAsync(accepted.JobId, 30, cancellationToken);
        }
        while (!job.IsTerminal);
        var seen = DateTimeOffset.UtcNow;
        if (job.Status != "completed")
        {
            throw new InvalidOperationException($"timeline job {job.JobId} ended {job.Status}: {job.Error}");
        }
        var generate = backend?.LastGenerate;

        // The receipt's record_receipt is sent after the completion: wait for its block before reading the outbox.
        var outbox = await OutboxAsync(database, job.JobId, cancellationToken);
        var deadline = DateTimeOffset.UtcNow.AddSeconds(30);
        while (outbox.FirstOrDefault(o => o.Kind == "record_receipt") is not { Height: not null } && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(20, cancellationToken);
            outbox = await OutboxAsync(database, job.JobId, cancellationToken);
        }
        var submit = outbox.First(o => o.Kind == "submit_job");
        var record = outbox.FirstOrDefault(o => o.Kind == "record_receipt");
        DateTimeOffset? receiptBlock = record?.Height is { } h
            ? DateTimeOffset.Parse((await node.GetBlockAsync(h, cancellationToken)).Header.Time, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal)
            : null;
        var receiptIssued = await ScalarAsync(database, "SELECT issued_at FROM receipts WHERE job_id = $id", job.JobId, cancellationToken);

        double Ms(DateTimeOffset at) => (at - t0).TotalMilliseconds;
        double? MsOf(long? unixMs) => unixMs is { } v ? v - t0.ToUnixTimeMilliseconds() : null;
        double? MsAt(string? text) => text is null ? null : Ms(DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
        return
        [
            0,
            Ms(posted),
            MsAt(job.SubmittedAt),
            MsOf(submit.CreatedAt),
            MsOf(submit.SentAt),
            Ms(answered),
            MsAt(job.AssignedAt),
            MsAt(job.StartedAt),
            generate is { } g ? Ms(g.Arrived) : null,
            generate is { } a ? Ms(a.Answered) : null,
            MsAt(job.CompletedAt),
            MsOf(receiptIssued),
            receiptBlock is { } b ? Ms(b) : null,
            Ms(seen),
        ];
    }

    private sealed record OutboxTimes(string Kind, long CreatedAt, long? SentAt, long? Height);

    private static async Task<List<OutboxTimes>> OutboxAsync(string database, string jobId, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, created_at, sent_at, height FROM outbox WHERE job_id = $id ORDER BY id";
        command.Parameters.AddWithValue("$id", jobId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<OutboxTimes>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new OutboxTimes(reader.GetString(0), reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetInt64(3)));
        }
        return rows;
    }

    private static async Task<long?> ScalarAsync(string database, string sql, string id, CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadOnly }.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        return await command.ExecuteScalarAsync(cancellationToken) is long v ? v : null;
    }

    /// <summary>The "Seed timeline" table of docs/performance.md.</summary>
    public static string Table(IReadOnlyList<TimelineStep> steps, TimelineOptions options)
    {
        string F(double? ms) => ms is { } v ? v.ToString("0", CultureInfo.InvariantCulture) + " ms" : "–";
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"| # | seed step | seed time | ours: what is timed | ours, fake backend {options.BackendLatencyMs} ms (median of {options.Runs}) |");
        sb.Append(options.Embedded ? $" ours, embedded model (median of {options.Runs}) |\n" : "\n");
        sb.Append("|---:|---|---:|---|---:|" + (options.Embedded ? "---:|\n" : "\n"));
        foreach (var s in steps)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {s.Step} | {s.Seed} | {s.SeedSeconds:0.0} s | {s.Ours} | {F(s.FakeMs)} |");
            sb.Append(options.Embedded ? $" {F(s.EmbeddedMs)} |\n" : "\n");
        }
        return sb.ToString();
    }
}
