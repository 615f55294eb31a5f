using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Miner;
using Aitbc.Miner.Backends;
using Aitbc.Node;

namespace Aitbc.Load;

/// <summary>Settings of a scale run: each size is a fresh network whose chain and coordinator hold that many blocks and jobs.</summary>
/// <param name="WorkDirectory">Where the services' data directories live while they run (a disk, as in production).</param>
/// <param name="BuildDirectory">Where the chain is built before it is copied to <paramref name="WorkDirectory"/> (tmpfs: the build's per-block fsync is not what is measured); null builds in place.</param>
public sealed record ScaleOptions(
    IReadOnlyList<long> Sizes, int Rounds, int SubmitJobs, int SubmitClients, int EndToEndJobs, int EndToEndClients, int Reads,
    string WorkDirectory, string? BuildDirectory, int BlockIntervalMs);

/// <summary>One query's latency at one size: the median over rounds of each round's p50 and p99.</summary>
public sealed record ScaleLatency(string Query, double P50Ms, double P99Ms);

/// <summary>What one size measured (throughputs and latencies: medians over the rounds).</summary>
public sealed record ScaleReport(
    long Size, long Blocks, double ChainSeedSeconds, long Jobs, double JobSeedSeconds, double ChainDbMiB, double CoordinatorDbMiB,
    double NodePeakRssMiB, double CoordinatorPeakRssMiB, double LoadToolPeakRssMiB,
    double SubmitsPerSecond, double SubmitP50Ms, double SubmitP99Ms, double EndToEndJobsPerSecond, double EndToEndP50Ms, double EndToEndP99Ms,
    IReadOnlyList<ScaleLatency> Reads, int Failed, int Rounds, double LoadAverage, double TotalSeconds);

/// <summary>
/// The scaling benchmark: for each size N, a chain of N blocks (<see cref="ScaleChain"/>) and a coordinator database of
/// N jobs (<see cref="ScaleJobs"/>), then the node and the coordinator as separate processes (so each one's peak RSS is
/// its own), two miners in this process on an instant Ollama-wire backend, and the usual figures on top: submissions,
/// jobs end to end, and every read a client, explorer or admin makes, each timed one at a time.
/// </summary>
public static class ScaleLoad
{
    private const string AdminKey = "scale-admin-key-0123456789";

    public static async Task<IReadOnlyList<ScaleReport>> RunAsync(ScaleOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var reports = new List<ScaleReport>();
        foreach (var size in options.Sizes)
        {
            reports.Add(await RunSizeAsync(options, size, log, cancellationToken));
        }
        return reports;
    }

    private static async Task<ScaleReport> RunSizeAsync(ScaleOptions options, long size, TextWriter log, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var root = Path.Combine(options.WorkDirectory, $"aitbc-scale-{size}-{Guid.NewGuid():N}");
        var buildRoot = options.BuildDirectory is null ? root : Path.Combine(options.BuildDirectory, $"aitbc-scale-build-{Guid.NewGuid():N}");
        var nodeOptions = new NodeOptions { DataDirectory = Path.Combine(root, "node") };
        var coordinatorDir = Path.Combine(root, "coordinator");
        var coordinatorKey = Ed25519KeyPair.Generate();
        var clientKey = Ed25519KeyPair.Generate();
        var minerKeys = new[] { Ed25519KeyPair.Generate(), Ed25519KeyPair.Generate() };
        var devnetDefaults = new Devnet.DevnetOptions { DataDirectory = root };
        try
        {
            log.WriteLine($"== {size:N0} blocks and jobs; data in {root}");
            var chainSeed = await ScaleChain.BuildAsync(new NodeOptions { DataDirectory = Path.Combine(buildRoot, "node") }, $"aitbc-scale-{size}", coordinatorKey, clientKey,
                minerKeys, devnetDefaults.ClientFunds, devnetDefaults.MinerFunds, size, options.BlockIntervalMs, log, cancellationToken);
            if (buildRoot != root)
            {
                var copy = Stopwatch.GetTimestamp();
                CopyDirectory(Path.Combine(buildRoot, "node"), nodeOptions.DataDirectory);
                Directory.Delete(buildRoot, recursive: true);
                log.WriteLine($"chain: copied to disk in {Stopwatch.GetElapsedTime(copy).TotalSeconds:0} s");
            }
            log.WriteLine($"chain: {chainSeed.Height:N0} blocks in {chainSeed.Seconds:0} s ({chainSeed.Seconds * 1e6 / Math.Max(1, chainSeed.Height):0} µs/block)");

            await using var node = await ScaleProcess.StartAsync("aitbc-node", ["start", "--data-dir", nodeOptions.DataDirectory], TimeSpan.FromMinutes(5), cancellationToken);
            Directory.CreateDirectory(Path.Combine(coordinatorDir, "config"));
            var coordinatorKeyPath = Path.Combine(coordinatorDir, "config", "coordinator_key.json");
            KeyFile.Save(coordinatorKeyPath, coordinatorKey);
            await using var coordinator = await ScaleProcess.StartAsync("aitbc-coordinator",
                ["start", "--data-dir", coordinatorDir, "--node", node.Url.AbsoluteUri, "--coordinator-key", coordinatorKeyPath, "--admin-key", AdminKey,
                 "--rate-limit", "1000000", "--log-dir", Path.Combine(coordinatorDir, "logs")], TimeSpan.FromMinutes(2), cancellationToken);
            log.WriteLine($"node pid {node.ProcessId} {node.Url}, coordinator pid {coordinator.ProcessId} {coordinator.Url}");

            using var admin = CoordinatorClient.Create(coordinator.Url, AdminKey);
            var clientApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("client", Address: clientKey.Address.Value), cancellationToken)).Key;
            await using var backend = await BenchOllama.StartAsync(TimeSpan.Zero, cancellationToken);
            var miners = new List<MinerHost>();
            try
            {
                for (var i = 0; i < minerKeys.Length; i++)
                {
                    var minerApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: minerKeys[i].PublicKey.Base64), cancellationToken)).Key;
                    var miner = await MinerHost.BuildAsync(new MinerOptions
                    {
                        DataDirectory = Path.Combine(root, $"miner-{i + 1}"),
                        Port = 0,
                        CoordinatorUrl = coordinator.Url,
                        NodeUrl = node.Url,
                        MinerApiKey = minerApiKey,
                        MinerKey = minerKeys[i],
                        Stake = devnetDefaults.MinerStake,
                        PricePerSecond = new Amount(1),
                        Capacity = 64,
                        Backend = new BackendOptions { Kind = BackendKind.Ollama, Url = backend.Url },
                        LogToConsole = false,
                    }, cancellationToken);
                    miners.Add(miner);
                    await miner.StartAsync(cancellationToken);
                }
                using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
                {
                    BaseAddress = coordinator.Url,
                    Timeout = TimeSpan.FromSeconds(120),
                };
                var client = new CoordinatorClient(http, clientApiKey);
                await WaitForMinersAsync(client, minerKeys.Length, cancellationToken);

                // The template every seeded job copies: one job through the real path.
                var template = await RunJobAsync(client, "template", cancellationToken);
                if (template.Job.Status != "completed")
                {
                    throw new InvalidOperationException($"template job ended {template.Job.Status}: {template.Job.Error}");
                }
                await WaitForReceiptOnChainAsync(client, template.Job.ReceiptId!, cancellationToken);
                var jobSeed = ScaleJobs.Seed(Path.Combine(coordinatorDir, "data", "coordinator.db"), template.Job.JobId, clientKey.Address.Value, size, chainSeed.Height, log);
                log.WriteLine($"jobs: {jobSeed.Jobs:N0} in {jobSeed.Seconds:0} s");

                using var nodeClient = NodeClient.Create(node.Url);
                await DriveAsync(client, 200, options.EndToEndClients, waitForResult: true, cancellationToken);
                log.WriteLine("warm-up: 200 jobs");

                var rounds = new List<Round>();
                var load = new List<double>();
                for (var r = 0; r < options.Rounds; r++)
                {
                    load.Add(JobLoadAverage());
                    var round = await MeasureRoundAsync(options, client, admin, nodeClient, jobSeed, chainSeed, cancellationToken);
                    rounds.Add(round);
                    log.WriteLine($"round {r + 1}: submit {round.SubmitsPerSecond:0}/s p50 {round.SubmitP50:0.0} ms; e2e {round.EndToEndPerSecond:0} jobs/s p50 {round.EndToEndP50:0.0} ms; "
                        + string.Join(", ", round.Reads.Select(q => $"{q.Query} {q.P50Ms:0.0}/{q.P99Ms:0.0}")));
                }
                load.Add(JobLoadAverage());
                var reads = rounds[0].Reads.Select((q, i) => new ScaleLatency(q.Query, Median(rounds.Select(x => x.Reads[i].P50Ms)), Median(rounds.Select(x => x.Reads[i].P99Ms)))).ToList();
                return new ScaleReport(size, chainSeed.Height, chainSeed.Seconds, jobSeed.Jobs, jobSeed.Seconds,
                    FileMiB(Path.Combine(nodeOptions.ChainDirectory, "chain.db")), FileMiB(Path.Combine(coordinatorDir, "data", "coordinator.db")),
                    node.PeakRssMiB, coordinator.PeakRssMiB, ScaleProcess.ProcStatusMiB(Environment.ProcessId, "VmHWM:"),
                    Median(rounds.Select(x => x.SubmitsPerSecond)), Median(rounds.Select(x => x.SubmitP50)), Median(rounds.Select(x => x.SubmitP99)),
                    Median(rounds.Select(x => x.EndToEndPerSecond)), Median(rounds.Select(x => x.EndToEndP50)), Median(rounds.Select(x => x.EndToEndP99)),
                    reads, rounds.Sum(x => x.Failed), rounds.Count, load.Average(), Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            finally
            {
                foreach (var miner in miners)
                {
                    await miner.DisposeAsync();
                }
            }
        }
        finally
        {
            TryDelete(root);
            if (buildRoot != root)
            {
                TryDelete(buildRoot);
            }
        }
    }

    private sealed record Round(double SubmitsPerSecond, double SubmitP50, double SubmitP99, double EndToEndPerSecond, double EndToEndP50, double EndToEndP99,
        IReadOnlyList<ScaleLatency> Reads, int Failed);

    private static async Task<Round> MeasureRoundAsync(ScaleOptions options, CoordinatorClient client, CoordinatorClient admin, NodeClient node,
        ScaleJobSeed jobs, ScaleChainSeed chain, CancellationToken cancellationToken)
    {
        var random = new Random();
        // Submissions (the miners run them meanwhile, as in production), then wait for every one to end.
        var submit = await DriveAsync(client, options.SubmitJobs, options.SubmitClients, waitForResult: false, cancellationToken);
        await ForEachAsync(options.SubmitClients, submit.JobIds.Count, async i =>
        {
            while (!(await client.GetJobAsync(submit.JobIds[i], 30, cancellationToken)).IsTerminal)
            {
            }
        });
        var e2e = await DriveAsync(client, options.EndToEndJobs, options.EndToEndClients, waitForResult: true, cancellationToken);

        T Pick<T>(IReadOnlyList<T> list) => list[random.Next(list.Count)];
        string Cursor((string Id, long At) job) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{job.At}:{job.Id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var n = options.Reads;
        var reads = new List<ScaleLatency>
        {
            await TimeAsync("job by id (client)", n, () => client.GetJobAsync(Pick(jobs.BenchClientJobs).Id, null, cancellationToken)),
            await TimeAsync("client's jobs, first page", n, () => client.ListJobsAsync(20, null, cancellationToken)),
            await TimeAsync("client's jobs, page at a random depth", n, () => client.ListJobsAsync(20, Cursor(Pick(jobs.BenchClientJobs)), cancellationToken)),
            await TimeAsync("admin: all jobs, first page", n, () => admin.GetAdminJobsAsync(null, 20, null, cancellationToken)),
            await TimeAsync("admin: all jobs, page at a random depth", n, () => admin.GetAdminJobsAsync(null, 20, Cursor(Pick(jobs.BenchClientJobs)), cancellationToken)),
            await TimeAsync("admin: failed jobs, first page", n, () => admin.GetAdminJobsAsync("failed", 20, null, cancellationToken)),
            await TimeAsync("receipt by id (admin)", n, () => admin.GetReceiptAsync(Pick(jobs.ReceiptIds), cancellationToken)),
            await TimeAsync("explorer: receipts, first page", n, () => client.GetExplorerReceiptsAsync(20, null, cancellationToken)),
            await TimeAsync("explorer: blocks, first page", n, () => client.GetExplorerBlocksAsync(20, null, cancellationToken)),
            await TimeAsync("explorer: transactions, first page", n, () => client.GetExplorerTransactionsAsync(20, null, cancellationToken)),
            await TimeAsync("market stats", n, () => client.GetMarketStatsAsync(cancellationToken)),
            await TimeAsync("node: block at a random height", n, () => node.GetBlockAsync(1 + random.NextInt64(chain.Height), cancellationToken)),
            await TimeAsync("node: tx by hash", n, () => node.GetTxAsync(Pick(chain.Txs).Hash, cancellationToken)),
            await TimeAsync("node: account", n, () => node.GetAccountAsync(Pick(chain.Accounts), cancellationToken)),
            await TimeAsync("node: tx_search by recipient", n, () => node.SearchTxsAsync($"transfer.recipient='{Pick(chain.Accounts).Value}'", 1, 20, true, cancellationToken)),
            await TimeAsync("node: blockchain (20 headers)", n, () =>
            {
                var max = 20 + random.NextInt64(chain.Height - 20);
                return node.GetBlockchainAsync(max - 19, max, cancellationToken);
            }),
        };
        var submits = submit.SubmitMs.Order().ToArray();
        var ends = e2e.EndToEndMs.Order().ToArray();
        return new Round(submit.JobIds.Count / submit.SubmitSeconds, JobLoad.Percentile(submits, 0.5), JobLoad.Percentile(submits, 0.99),
            e2e.JobIds.Count / e2e.Seconds, JobLoad.Percentile(ends, 0.5), JobLoad.Percentile(ends, 0.99), reads, submit.Failed + e2e.Failed);
    }

    private static async Task<ScaleLatency> TimeAsync<T>(string query, int count, Func<Task<T>> call)
    {
        await call();
        var samples = new double[count];
        for (var i = 0; i < count; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            await call();
            samples[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(samples);
        return new ScaleLatency(query, JobLoad.Percentile(samples, 0.5), JobLoad.Percentile(samples, 0.99));
    }

    private sealed record Drive(List<string> JobIds, List<double> SubmitMs, List<double> EndToEndMs, double Seconds, double SubmitSeconds, int Failed);

    /// <summary>Closed loop: each client submits, then (when <paramref name="waitForResult"/>) long-polls its job to the end, then submits the next.</summary>
    private static async Task<Drive> DriveAsync(CoordinatorClient client, int jobs, int clients, bool waitForResult, CancellationToken cancellationToken)
    {
        var ids = new ConcurrentBag<string>();
        var submitMs = new ConcurrentBag<double>();
        var endMs = new ConcurrentBag<double>();
        var failed = 0;
        var lastSubmit = 0L;
        var start = Stopwatch.GetTimestamp();
        await ForEachAsync(clients, jobs, async n =>
        {
            var t0 = Stopwatch.GetTimestamp();
            var accepted = await client.SubmitJobAsync(new JobSubmission("inference", $"scale job {n}", BenchOllama.Model, MaxPrice: "0.01"), cancellationToken: cancellationToken);
            var t1 = Stopwatch.GetTimestamp();
            long seen;
            while ((seen = Interlocked.Read(ref lastSubmit)) < t1 && Interlocked.CompareExchange(ref lastSubmit, t1, seen) != seen)
            {
            }
            ids.Add(accepted.JobId);
            submitMs.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            if (waitForResult)
            {
                JobView job;
                do
                {
                    job = await client.GetJobAsync(accepted.JobId, 30, cancellationToken);
                }
                while (!job.IsTerminal);
                endMs.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (job.Status != "completed")
                {
                    Interlocked.Increment(ref failed);
                }
            }
        });
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return new Drive([.. ids], [.. submitMs], [.. endMs], seconds, Math.Max(1e-6, Stopwatch.GetElapsedTime(start, Interlocked.Read(ref lastSubmit)).TotalSeconds), failed);
    }

    private static async Task<(JobView Job, double Ms)> RunJobAsync(CoordinatorClient client, string prompt, CancellationToken cancellationToken)
    {
        var t0 = Stopwatch.GetTimestamp();
        var accepted = await client.SubmitJobAsync(new JobSubmission("inference", prompt, BenchOllama.Model, MaxPrice: "0.01"), cancellationToken: cancellationToken);
        var job = await client.WaitForJobAsync(accepted.JobId, 30, cancellationToken: cancellationToken);
        return (job, Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
    }

    /// <summary>The template's record_receipt must be committed, so its outbox rows are the ones a settled job has.</summary>
    private static async Task WaitForReceiptOnChainAsync(CoordinatorClient client, string receiptId, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (60 * Stopwatch.Frequency);
        while ((await client.GetReceiptAsync(receiptId, cancellationToken)).Chain?.BlockHeight is null)
        {
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"receipt {receiptId} not on chain within 60 s");
            }
            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task WaitForMinersAsync(CoordinatorClient client, int count, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (120 * Stopwatch.Frequency);
        while (true)
        {
            var miners = await client.GetMarketMinersAsync(cancellationToken);
            if (miners.Miners.Count(m => m.Online && Amount.TryParseAitbc(m.Stake, out var s) && !s.IsZero) >= count)
            {
                return;
            }
            if (Stopwatch.GetTimestamp() > deadline)
            {
                throw new TimeoutException("the miners did not come online with their stake within 120 s");
            }
            await Task.Delay(200, cancellationToken);
        }
    }

    private static Task ForEachAsync(int workers, int count, Func<int, Task> work)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) < count)
            {
                await work(n);
            }
        })));
    }

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    internal static double JobLoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    private static double FileMiB(string path) =>
        (new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0)) / 1048576.0;

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
        foreach (var directory in Directory.EnumerateDirectories(from))
        {
            CopyDirectory(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The markdown tables of docs/performance.md's "Scaling" section, one column per size.</summary>
    public static string Tables(IReadOnlyList<ScaleReport> reports)
    {
        var sb = new StringBuilder();
        string Header(string first) => $"| {first} | " + string.Join(" | ", reports.Select(r => $"{r.Size:N0}")) + " |\n|---|" + string.Concat(reports.Select(_ => "---:|")) + "\n";
        string Row(string name, Func<ScaleReport, string> cell) => $"| {name} | " + string.Join(" | ", reports.Select(cell)) + " |\n";
        string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);
        sb.Append(Header("stored blocks and jobs"));
        sb.Append(Row("building the chain (s)", r => F(r.ChainSeedSeconds, "0")));
        sb.Append(Row("seeding the jobs (s)", r => F(r.JobSeedSeconds, "0")));
        sb.Append(Row("chain.db / coordinator.db (MiB)", r => $"{F(r.ChainDbMiB, "0")} / {F(r.CoordinatorDbMiB, "0")}"));
        sb.Append(Row("peak RSS: node (MiB)", r => F(r.NodePeakRssMiB, "0")));
        sb.Append(Row("peak RSS: coordinator (MiB)", r => F(r.CoordinatorPeakRssMiB, "0")));
        sb.Append(Row("peak RSS: load tool + 2 miners + seeding (MiB)", r => F(r.LoadToolPeakRssMiB, "0")));
        sb.Append(Row("submissions/s", r => F(r.SubmitsPerSecond, "0")));
        sb.Append(Row("submit p50 / p99 (ms)", r => $"{F(r.SubmitP50Ms, "0.0")} / {F(r.SubmitP99Ms, "0.0")}"));
        sb.Append(Row("end-to-end jobs/s", r => F(r.EndToEndJobsPerSecond, "0")));
        sb.Append(Row("end-to-end p50 / p99 (ms)", r => $"{F(r.EndToEndP50Ms, "0.0")} / {F(r.EndToEndP99Ms, "0.0")}"));
        sb.Append(Row("failed jobs", r => r.Failed.ToString(CultureInfo.InvariantCulture)));
        sb.Append(Row("rounds (medians of)", r => r.Rounds.ToString(CultureInfo.InvariantCulture)));
        sb.Append(Row("load average", r => F(r.LoadAverage, "0.0")));
        sb.Append(Row("whole size took (s)", r => F(r.TotalSeconds, "0")));
        sb.Append('\n');
        sb.Append(Header("read latency p50 / p99 (ms)"));
        foreach (var (query, i) in reports[0].Reads.Select((q, i) => (q.Query, i)))
        {
            sb.Append(Row(query, r => $"{F(r.Reads[i].P50Ms, "0.0")} / {F(r.Reads[i].P99Ms, "0.0")}"));
        }
        return sb.ToString();
    }
}
