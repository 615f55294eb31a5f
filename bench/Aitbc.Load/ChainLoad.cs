using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Load;

/// <summary>Settings of one chain load run.</summary>
/// <param name="Rate">Offered load in tx/s spread over the connections; 0 sends as fast as the node admits.</param>
public sealed record ChainLoadOptions(int Txs, int Senders, int Connections, int Batch, int BlockIntervalMs, TimeSpan Timeout, int Rate = 0, int Warmup = 20_000);

/// <summary>What a chain load run measured.</summary>
public sealed record ChainLoadReport(
    int Sent, int Accepted, int Rejected, int Committed, double Seconds, double TxPerSecond,
    double P50Ms, double P90Ms, double P99Ms, double MaxMs, long Blocks, double TxsPerBlock, string FirstRejection,
    double NodeCpuMicrosPerTx, double LoadCpuMicrosPerTx);

/// <summary>
/// Drives a real node process with pre-signed transfers over JSON-RPC (broadcast_tx_sync in batches) and measures,
/// per transaction, the time from its broadcast to the commit of the block holding it, observed by polling the RPC.
/// </summary>
public static class ChainLoad
{
    private const string ChainId = "aitbc-load";

    public static async Task<ChainLoadReport> RunAsync(ChainLoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), $"aitbc-load-{Guid.NewGuid():N}");
        try
        {
            var keys = Enumerable.Range(0, options.Senders).Select(_ => Ed25519KeyPair.Generate()).ToArray();
            var initArgs = new List<string> { "--chain-id", ChainId, "--block-interval-ms", options.BlockIntervalMs.ToString(CultureInfo.InvariantCulture) };
            foreach (var key in keys)
            {
                initArgs.AddRange(["--alloc", $"{key.Address}=1000000000000"]);
            }
            await using var node = await NodeProcess.StartAsync(dataDir, initArgs, cancellationToken);
            var warmupPerSender = (options.Warmup + options.Senders - 1) / options.Senders;
            var perSender = (options.Txs + options.Senders - 1) / options.Senders;
            log.WriteLine($"node pid {node.ProcessId} at {node.Url}; signing {options.Warmup} warm-up and {options.Txs} measured transfers from {options.Senders} senders");
            var warmup = new SignedTransaction[options.Senders][];
            var measured = new SignedTransaction[options.Senders][];
            Parallel.For(0, options.Senders, s =>
            {
                var to = keys[(s + 1) % keys.Length].Address;
                var all = Enumerable.Range(1, warmupPerSender + perSender).Select(n =>
                    new UnsignedTransaction(ChainId, keys[s].PublicKey, (ulong)n, new TransferBody(to, new Amount(1))).Sign(keys[s])).ToArray();
                warmup[s] = all[..warmupPerSender];
                measured[s] = all[warmupPerSender..];
            });

            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections + 2 }) { BaseAddress = node.Url, Timeout = TimeSpan.FromSeconds(60) };
            var committedAt = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var blocks = 0L;
            var watcher = Task.Run(() => WatchCommitsAsync(http, committedAt, b => Interlocked.Add(ref blocks, b), stopWatching.Token), CancellationToken.None);

            if (warmupPerSender > 0)
            {
                // Warm-up: JIT tiers, caches and the database settle before anything is measured.
                var warm = await SendAsync(http, warmup, options with { Rate = 0 }, cancellationToken);
                await WaitForCommitsAsync(committedAt, warm.SentAt.Keys, options.Timeout, cancellationToken);
                log.WriteLine($"warm-up: {warm.SentAt.Count} txs committed");
            }
            var blocksBefore = Interlocked.Read(ref blocks);
            var nodeCpuBefore = node.CpuTime;
            var loadCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            var (sentAt, rejected, firstRejection) = await SendAsync(http, measured, options, cancellationToken);
            var sendSeconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var accepted = sentAt.Count - rejected;
            log.WriteLine($"sent {sentAt.Count} txs in {sendSeconds:0.00} s ({sentAt.Count / sendSeconds:0} tx/s admitted), {rejected} rejected; waiting for commits");
            await WaitForCommitsAsync(committedAt, sentAt.Keys, options.Timeout, cancellationToken);
            await stopWatching.CancelAsync();
            await watcher;
            var nodeCpu = (node.CpuTime - nodeCpuBefore).TotalMicroseconds;
            var loadCpu = (Process.GetCurrentProcess().TotalProcessorTime - loadCpuBefore).TotalMicroseconds;
            var measuredBlocks = Interlocked.Read(ref blocks) - blocksBefore;
            var committed = sentAt.Keys.Count(committedAt.ContainsKey);

            var latencies = sentAt
                .Where(kv => committedAt.ContainsKey(kv.Key))
                .Select(kv => (committedAt[kv.Key] - kv.Value) * 1000.0 / Stopwatch.Frequency)
                .Order()
                .ToArray();
            var lastCommit = sentAt.Keys.Select(h => committedAt.GetValueOrDefault(h, start)).DefaultIfEmpty(start).Max();
            var seconds = (lastCommit - start) / (double)Stopwatch.Frequency;
            return new ChainLoadReport(sentAt.Count, accepted, rejected, committed, seconds, committed / seconds,
                Percentile(latencies, 0.50), Percentile(latencies, 0.90), Percentile(latencies, 0.99), latencies.DefaultIfEmpty().Max(),
                measuredBlocks, measuredBlocks == 0 ? 0 : committed / (double)measuredBlocks, firstRejection,
                nodeCpu / Math.Max(1, committed), loadCpu / Math.Max(1, committed));
        }
        finally
        {
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Sends every sender's transactions, each worker owning every Connections-th sender so nonces arrive in order.</summary>
    private static async Task<(ConcurrentDictionary<string, long> SentAt, int Rejected, string FirstRejection)> SendAsync(
        HttpClient http, SignedTransaction[][] bySender, ChainLoadOptions options, CancellationToken cancellationToken)
    {
        var sentAt = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var rejected = 0;
        var firstRejection = "";
        var start = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, options.Connections).Select(w => Task.Run(async () =>
        {
            var mine = Enumerable.Range(0, bySender.Length).Where(s => s % options.Connections == w).ToArray();
            var queue = new List<SignedTransaction>();
            for (var n = 0; n < bySender[0].Length; n++)
            {
                queue.AddRange(mine.Select(s => bySender[s][n]));
            }
            for (var offset = 0; offset < queue.Count; offset += options.Batch)
            {
                if (options.Rate > 0)
                {
                    // Open-loop pacing: this worker's share of the offered rate decides when its next batch is due.
                    var due = start + (long)(offset * (double)options.Connections / options.Rate * Stopwatch.Frequency);
                    var wait = due - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency), cancellationToken);
                    }
                }
                var batch = queue.Skip(offset).Take(options.Batch).ToList();
                var request = new JsonArray();
                for (var i = 0; i < batch.Count; i++)
                {
                    request.Add(new JsonObject
                    {
                        ["jsonrpc"] = "2.0",
                        ["id"] = i,
                        ["method"] = "broadcast_tx_sync",
                        ["params"] = new JsonObject { ["tx"] = Convert.ToBase64String(batch[i].WireBytes) },
                    });
                }
                var now = Stopwatch.GetTimestamp();
                foreach (var tx in batch)
                {
                    sentAt[tx.Hash] = now;
                }
                using var response = await http.PostAsJsonAsync("", request, cancellationToken);
                using var answer = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
                foreach (var item in answer.RootElement.EnumerateArray())
                {
                    var code = item.TryGetProperty("result", out var result) ? result.GetProperty("code").GetInt32() : -1;
                    if (code != 0 && Interlocked.Increment(ref rejected) == 1)
                    {
                        firstRejection = item.GetRawText();
                    }
                }
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        return (sentAt, rejected, firstRejection);
    }

    private static async Task WaitForCommitsAsync(ConcurrentDictionary<string, long> committedAt, ICollection<string> hashes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (!hashes.All(committedAt.ContainsKey) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task WatchCommitsAsync(HttpClient http, ConcurrentDictionary<string, long> committedAt, Action<long> onBlocks, CancellationToken cancellationToken)
    {
        var seen = 0L;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var status = await CallAsync(http, "status", new JsonObject(), cancellationToken);
                var height = long.Parse(status.GetProperty("sync_info").GetProperty("latest_block_height").GetString()!, CultureInfo.InvariantCulture);
                var observed = Stopwatch.GetTimestamp();
                for (var h = seen + 1; h <= height; h++)
                {
                    var block = await CallAsync(http, "block", new JsonObject { ["height"] = h.ToString(CultureInfo.InvariantCulture) }, cancellationToken);
                    foreach (var tx in block.GetProperty("block").GetProperty("data").GetProperty("txs").EnumerateArray())
                    {
                        committedAt.TryAdd(Hashing.Sha256UpperHex(Convert.FromBase64String(tx.GetString()!)), observed);
                    }
                }
                onBlocks(height - seen);
                seen = height;
                await Task.Delay(10, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<JsonElement> CallAsync(HttpClient http, string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("", new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters }, cancellationToken);
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(cancellationToken));
        return document.RootElement.GetProperty("result").Clone();
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}
