using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Devnet;
using Aitbc.Miner.Backends;

namespace Aitbc.Load;

/// <summary>Settings of one job load run.</summary>
public sealed record JobLoadOptions(
    int Jobs, int Warmup, int Clients, int Miners, int MinerCapacity, int BackendLatencyMs, bool SubmitOnly,
    int BlockIntervalMs, TimeSpan Timeout)
{
    /// <summary>
    /// After <see cref="Warmup"/>, how long at most to go on warming up in rounds of <see cref="SettleRound"/> until a round
    /// spends under 1 % of its time compiling (tiered JIT recompiles hot code for minutes under load: measured before it
    /// settles, submissions/s read ≈ 30 % low). Zero measures right after the fixed warm-up.
    /// </summary>
    public TimeSpan SettleLimit { get; init; } = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan SettleRound = TimeSpan.FromSeconds(2);

    /// <summary>When set, the measured run (only) is recorded with <c>perf record</c> into this file.</summary>
    public string? PerfRecord { get; init; }

    /// <summary>When set, what the coordinator's metrics gained during the measured run (only) is written to this file.</summary>
    public string? MetricsOut { get; init; }
}

/// <summary>What a job load run measured; latencies in milliseconds.</summary>
public sealed record JobLoadReport(
    string Mode, int Clients, int Miners, int BackendLatencyMs, int Jobs, int Completed, int Failed, double Seconds,
    double SubmitsPerSecond, double SubmitP50Ms, double SubmitP99Ms,
    double CompletedPerSecond, double EndToEndP50Ms, double EndToEndP99Ms,
    double SubmitToAssignP50Ms, double SubmitToAssignP99Ms, double CompleteToVisibleP50Ms, double CompleteToVisibleP99Ms,
    double DirectP50Ms, double DirectP99Ms, double OverheadRatioP50, double OverheadRatioP99,
    double AddedP50Ms, double AddedP99Ms, double LoadAverage, string FirstError)
{
    /// <summary>
    /// CPU time of this whole process (node, coordinator, miners, backend and the clients) during the measured run, per
    /// job: unlike rates and latencies it barely moves when other processes share the cores.
    /// </summary>
    public double CpuMsPerJob { get; init; }

    /// <summary>Jobs run before measuring: the fixed warm-up plus the rounds until the JIT settled.</summary>
    public int WarmupJobs { get; init; }

    /// <summary>Time spent compiling (all threads) during the measured run: near zero once tiered JIT has settled.</summary>
    public double JitMsInRun { get; init; }

    /// <summary>Share of the measured run's wall time the process spent paused for garbage collection.</summary>
    public double GcPausePercent { get; init; }

    /// <summary>Managed memory allocated during the measured run, per job, in KiB (all of the network, as CPU above).</summary>
    public double AllocatedKiBPerJob { get; init; }
}

/// <summary>
/// A whole network in this process on free loopback ports (a validator node with a fresh genesis, the coordinator on
/// SQLite, M miners whose Ollama backend is <see cref="BenchOllama"/>), driven over HTTP by N concurrent
/// <see cref="CoordinatorClient"/>s. Each client submits a job and long-polls it to a terminal state, then the next.
/// </summary>
public static class JobLoad
{
    private const string ChainId = "aitbc-load-jobs";

    public static async Task<JobLoadReport> RunAsync(JobLoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"aitbc-load-jobs-{Guid.NewGuid():N}");
        await using var backend = await BenchOllama.StartAsync(TimeSpan.FromMilliseconds(options.BackendLatencyMs), cancellationToken);
        // The same composition as `aitbc up`, on free ports, with the miners on the fixed-latency Ollama-wire backend.
        var devnet = await LocalNetwork.StartAsync(new DevnetOptions
        {
            DataDirectory = dataDir,
            PortBase = 0,
            Backend = DevnetBackend.Ollama,
            BackendUrl = backend.Url,
            Miners = options.SubmitOnly ? 0 : options.Miners,
            MinerCapacity = options.MinerCapacity,
            MinerPricePerSecond = new Amount(1),
            BlockIntervalMs = options.BlockIntervalMs,
            // The limiter is not what is measured: one client key carries every client's load.
            RateLimitPerSecond = 1_000_000,
            // Without miners every job waits in the queue; failing and refunding the oldest (after the default minute, which
            // the warm-up can outlast) would put refund transactions into what is meant to measure submissions.
            QueueTimeout = options.SubmitOnly ? TimeSpan.FromHours(1) : null,
        }, cancellationToken: cancellationToken);
        try
        {
            var coordinatorUrl = devnet.CoordinatorUrl;
            var clientApiKey = devnet.State.ClientApiKey!;
            var minerCount = options.SubmitOnly ? 0 : options.Miners;
            log.WriteLine($"node {devnet.NodeUrl}, coordinator {coordinatorUrl}, backend {backend.Url} ({options.BackendLatencyMs} ms)");
            log.WriteLine($"{minerCount} miners online (capacity {options.MinerCapacity} each); {options.Clients} clients");

            // Baseline: the same backend called directly by the miner's own Ollama client, at the same concurrency.
            var (directP50, directP99) = (0.0, 0.0);
            if (!options.SubmitOnly)
            {
                using var direct = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients + 4 }) { BaseAddress = backend.Url };
                var ollama = new OllamaBackend(direct, TimeSpan.FromMinutes(1));
                var directCalls = Math.Max(options.Clients * 2, Math.Min(options.Jobs, options.Clients * 10));
                var directLatencies = new ConcurrentBag<double>();
                await ForEachClientAsync(options.Clients, directCalls, static () => false, async _ =>
                {
                    var started = Stopwatch.GetTimestamp();
                    await ollama.GenerateAsync(new InferenceRequest(BenchOllama.Model, "direct"), cancellationToken);
                    directLatencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }, cancellationToken);
                var sortedDirect = directLatencies.Order().ToArray();
                (directP50, directP99) = (Percentile(sortedDirect, 0.50), Percentile(sortedDirect, 0.99));
                log.WriteLine($"direct backend: p50 {directP50:0.00} ms, p99 {directP99:0.00} ms over {sortedDirect.Length} calls");
            }

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients * 2 + 4, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5) })
            {
                BaseAddress = coordinatorUrl,
                Timeout = options.Timeout,
            };
            var clients = new CoordinatorClient(http, clientApiKey);
            var warmupJobs = await WarmUpAsync(clients, options, log, cancellationToken);
            var loadBefore = LoadAverage();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var jitBefore = JitInfo.GetCompilationTime();
            var gcBefore = GC.GetTotalPauseDuration();
            var allocatedBefore = GC.GetTotalAllocatedBytes();
            var metricsBefore = options.MetricsOut is null ? null : await http.GetStringAsync("metrics", cancellationToken);
            Run run;
            await using (options.PerfRecord is { } perfFile ? await PerfRecording.StartAsync(perfFile, 999, log, cancellationToken) : null)
            {
                run = await DriveAsync(clients, options, options.Jobs, cancellationToken);
            }
            if (options.MetricsOut is { } metricsFile)
            {
                await File.WriteAllLinesAsync(metricsFile, MetricsDelta.Between(metricsBefore!, await http.GetStringAsync("metrics", cancellationToken)), cancellationToken);
            }
            var jobsRun = Math.Max(1, run.Samples.Count);
            var cpuMsPerJob = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / jobsRun;
            var jitMs = (JitInfo.GetCompilationTime() - jitBefore).TotalMilliseconds;
            var gcPercent = 100 * (GC.GetTotalPauseDuration() - gcBefore).TotalSeconds / run.Seconds;
            var allocatedKiB = (GC.GetTotalAllocatedBytes() - allocatedBefore) / 1024.0 / jobsRun;
            var loadAfter = LoadAverage();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"process CPU: {cpuMsPerJob:0.00} ms per job; JIT {jitMs:0} ms in the run; GC pauses {gcPercent:0.0} % of it; {allocatedKiB:0} KiB allocated per job"));

            var submits = run.Samples.Select(s => s.SubmitMs).Order().ToArray();
            var done = run.Samples.Where(s => s.Status == "completed").ToArray();
            var e2e = done.Select(s => s.EndToEndMs).Order().ToArray();
            var toAssign = done.Where(s => s.SubmitToAssignMs is not null).Select(s => s.SubmitToAssignMs!.Value).Order().ToArray();
            var toVisible = done.Where(s => s.CompleteToVisibleMs is not null).Select(s => s.CompleteToVisibleMs!.Value).Order().ToArray();
            var failed = run.Samples.Count(s => s.Status != "completed" && !options.SubmitOnly);
            var e2eP50 = Percentile(e2e, 0.50);
            var e2eP99 = Percentile(e2e, 0.99);
            return new JobLoadReport(
                options.SubmitOnly ? "submit-only" : "end-to-end", options.Clients, minerCount, options.BackendLatencyMs, run.Samples.Count, done.Length, failed,
                run.Seconds,
                options.SubmitOnly ? run.Samples.Count / run.Seconds : run.Samples.Count / run.SubmitSeconds,
                Percentile(submits, 0.50), Percentile(submits, 0.99),
                options.SubmitOnly ? 0 : done.Length / run.Seconds, e2eP50, e2eP99,
                Percentile(toAssign, 0.50), Percentile(toAssign, 0.99), Percentile(toVisible, 0.50), Percentile(toVisible, 0.99),
                directP50, directP99,
                directP50 > 0 ? e2eP50 / directP50 : 0, directP99 > 0 ? e2eP99 / directP99 : 0,
                options.SubmitOnly ? 0 : e2eP50 - directP50, options.SubmitOnly ? 0 : e2eP99 - directP99,
                (loadBefore + loadAfter) / 2, run.FirstError)
            {
                CpuMsPerJob = cpuMsPerJob,
                WarmupJobs = warmupJobs,
                JitMsInRun = jitMs,
                GcPausePercent = gcPercent,
                AllocatedKiBPerJob = allocatedKiB,
            };
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

    /// <summary>The fixed warm-up, then rounds of load until one spends under 1 % of its time in the JIT (or the limit).</summary>
    private static async Task<int> WarmUpAsync(CoordinatorClient clients, JobLoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var jobs = 0;
        if (options.Warmup > 0)
        {
            jobs += (await DriveAsync(clients, options, options.Warmup, cancellationToken)).Samples.Count;
        }
        var settling = Stopwatch.StartNew();
        var share = double.NaN;
        while (settling.Elapsed < options.SettleLimit)
        {
            var jitBefore = JitInfo.GetCompilationTime();
            var round = Stopwatch.StartNew();
            jobs += (await DriveAsync(clients, options, int.MaxValue, cancellationToken, JobLoadOptions.SettleRound)).Samples.Count;
            share = (JitInfo.GetCompilationTime() - jitBefore) / round.Elapsed;
            if (share < 0.01)
            {
                break;
            }
        }
        // With --settle-seconds 0 no round ran: say so rather than print a share of nothing.
        var settled = double.IsNaN(share)
            ? "not waiting for the JIT to settle"
            : string.Create(CultureInfo.InvariantCulture, $"{settling.Elapsed.TotalSeconds:0} s of it until the JIT settled; last round {100 * share:0.0} % in the JIT");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"warm-up: {jobs} jobs ({settled}; {JitInfo.GetCompiledMethodCount()} methods compiled)"));
        return jobs;
    }

    private sealed record Sample(string Status, double SubmitMs, double EndToEndMs, double? SubmitToAssignMs, double? CompleteToVisibleMs);

    private sealed record Run(List<Sample> Samples, double Seconds, double SubmitSeconds, string FirstError);

    /// <summary>Closed loop: each client submits, then (unless submit-only) long-polls its job to the end, then submits the next.</summary>
    private static async Task<Run> DriveAsync(CoordinatorClient client, JobLoadOptions options, int jobs, CancellationToken cancellationToken, TimeSpan? duration = null)
    {
        var samples = new ConcurrentBag<Sample>();
        var firstError = "";
        var lastSubmit = 0L;
        var start = Stopwatch.GetTimestamp();
        var until = duration is { } d ? start + (long)(d.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        await ForEachClientAsync(options.Clients, jobs, () => Stopwatch.GetTimestamp() >= until, async n =>
        {
            try
            {
                var t0 = Stopwatch.GetTimestamp();
                var accepted = await client.SubmitJobAsync(new JobSubmission("inference", $"load job {n}", BenchOllama.Model, MaxPrice: "0.01"), cancellationToken: cancellationToken);
                var t1 = Stopwatch.GetTimestamp();
                InterlockedMax(ref lastSubmit, t1);
                var submitMs = Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
                if (options.SubmitOnly)
                {
                    samples.Add(new Sample(accepted.Status, submitMs, 0, null, null));
                    return;
                }
                JobView job;
                do
                {
                    job = await client.GetJobAsync(accepted.JobId, 30, cancellationToken);
                }
                while (!job.IsTerminal);
                var seen = DateTimeOffset.UtcNow;
                var t2 = Stopwatch.GetTimestamp();
                var submitted = Parse(job.SubmittedAt);
                double? toAssign = job.AssignedAt is { } a ? (Parse(a) - submitted).TotalMilliseconds : null;
                double? toVisible = job.CompletedAt is { } c ? (seen - Parse(c)).TotalMilliseconds : null;
                samples.Add(new Sample(job.Status, submitMs, Stopwatch.GetElapsedTime(t0, t2).TotalMilliseconds, toAssign, toVisible));
                if (job.Status != "completed")
                {
                    Interlocked.CompareExchange(ref firstError, $"{job.Status}: {job.Error}", "");
                }
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref firstError, e.Message, "");
                samples.Add(new Sample("error", 0, 0, null, null));
            }
        }, cancellationToken);
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var submitSeconds = Stopwatch.GetElapsedTime(start, Interlocked.Read(ref lastSubmit)).TotalSeconds;
        return new Run([.. samples], seconds, Math.Max(submitSeconds, 1e-6), firstError);
    }

    /// <summary>Runs <paramref name="work"/> <paramref name="count"/> times, <paramref name="clients"/> at a time, taking no new work once <paramref name="stop"/> says so.</summary>
    internal static Task ForEachClientAsync(int clients, int count, Func<bool> stop, Func<int, Task> work, CancellationToken cancellationToken)
    {
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            int n;
            while (!stop() && (n = Interlocked.Increment(ref next)) < count)
            {
                await work(n);
            }
        }, cancellationToken)));
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }
            current = seen;
        }
    }

    private static DateTimeOffset Parse(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static double LoadAverage()
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

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, Math.Max(0, (int)Math.Ceiling(p * sorted.Length) - 1))];

    /// <summary>One markdown table row per run, under <see cref="TableHeader"/>.</summary>
    public static string TableRow(JobLoadReport r) => string.Create(CultureInfo.InvariantCulture,
        $"| {r.Mode} | {r.Clients} | {r.Miners} | {r.BackendLatencyMs} | {r.Jobs} | {r.SubmitsPerSecond:0} | {r.SubmitP50Ms:0.0} / {r.SubmitP99Ms:0.0} | " +
        $"{(r.Mode == "submit-only" ? "–" : r.CompletedPerSecond.ToString("0", CultureInfo.InvariantCulture))} | " +
        $"{Ms(r.EndToEndP50Ms, r)} / {Ms(r.EndToEndP99Ms, r)} | {Ms(r.SubmitToAssignP50Ms, r)} / {Ms(r.SubmitToAssignP99Ms, r)} | " +
        $"{Ms(r.CompleteToVisibleP50Ms, r)} / {Ms(r.CompleteToVisibleP99Ms, r)} | {Ms(r.DirectP50Ms, r)} / {Ms(r.DirectP99Ms, r)} | " +
        $"{(r.Mode == "submit-only" ? "–" : $"{r.OverheadRatioP50:0.000} / {r.OverheadRatioP99:0.000}")} | {r.Failed} | {r.CpuMsPerJob:0.00} | {r.JitMsInRun:0} | {r.LoadAverage:0.0} |");

    public const string TableHeader =
        "| mode | clients | miners | backend ms | jobs | submits/s | submit p50 / p99 ms | completed/s | end-to-end p50 / p99 ms | submit→assign p50 / p99 ms | complete→visible p50 / p99 ms | direct backend p50 / p99 ms | overhead ratio p50 / p99 | failed | CPU ms / job | JIT ms in run | load avg |\n" +
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    private static string Ms(double value, JobLoadReport r) => r.Mode == "submit-only" && value == 0 ? "–" : value.ToString("0.0", CultureInfo.InvariantCulture);
}
