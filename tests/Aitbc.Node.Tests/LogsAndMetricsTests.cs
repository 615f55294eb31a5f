using System.Globalization;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests;

/// <summary>What an operator sees of a running node: node.log under the data dir, and Prometheus metrics.</summary>
public sealed class LogsAndMetricsTests(ITestOutputHelper output)
{
    /// <summary>Long enough that a transaction sent right after a block visibly waits in the mempool.</summary>
    private const int BlockIntervalMs = 1500;

    [Fact]
    public async Task Node_log_records_commits_and_metrics_count_blocks_txs_mempool_and_block_time()
    {
        await using var net = await TestNet.CreateAsync("metrics", fundedWallets: 2, blockIntervalMs: BlockIntervalMs);
        var node = await net.StartValidatorAsync();
        var before = Parse(await node.Rpc.MetricsAsync());
        Assert.Equal(0, before["aitbc_node_height"]);
        Assert.Equal(0, before["aitbc_node_txs_total"]);

        var sender = net.Funded[0];
        var first = await node.Rpc.CommitOkAsync(sender.Transfer(net.Funded[1].Address, 1));
        Assert.Equal(1, first);

        // Right after block 1, the next block is at least an interval away: these wait in the mempool.
        var waiting = Enumerable.Range(0, 3).Select(i => sender.Transfer(net.Funded[1].Address, 10 + (ulong)i)).ToList();
        foreach (var tx in waiting)
        {
            Assert.Equal(0, (await node.Rpc.BroadcastSyncAsync(tx)).GetProperty("code").GetInt32());
        }
        var duringWait = Parse(await node.Rpc.MetricsAsync());
        var unconfirmed = await node.Rpc.CallAsync("unconfirmed_txs", new System.Text.Json.Nodes.JsonObject { ["limit"] = "10" });
        var pending = await node.Rpc.GetResultAsync("num_unconfirmed_txs");
        var stillWaiting = (await node.Rpc.FindTxsAsync(waiting.Select(t => t.Hash))).Values.Count(v => v is null);
        Assert.True(stillWaiting == 0 || duringWait["aitbc_node_mempool_size"] > 0,
            $"mempool_size {duringWait["aitbc_node_mempool_size"]} while {stillWaiting} txs had not been committed");
        if (stillWaiting == waiting.Count)
        {
            // Nothing was committed yet when these were read: the mempool views list exactly the waiting txs.
            Assert.Equal(waiting.Select(t => Convert.ToBase64String(t.WireBytes)), unconfirmed.GetProperty("txs").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("3", unconfirmed.GetProperty("n_txs").GetString());
            Assert.Equal("3", pending.GetProperty("total").GetString());
            Assert.Equal(waiting.Sum(t => t.WireBytes.Length).ToString(CultureInfo.InvariantCulture), pending.GetProperty("total_bytes").GetString());
        }
        Assert.True(duringWait["aitbc_node_mempool_size"] > 0, "the block came before the metrics were read: the interval is too short for this machine");

        await Poll.UntilAsync(async () => (await node.Rpc.FindTxsAsync(waiting.Select(t => t.Hash))).Values.All(v => v is not null),
            TimeSpan.FromSeconds(30), "the waiting txs to be committed");
        var height = await node.Rpc.HeightAsync();
        var after = Parse(await node.Rpc.MetricsAsync());
        output.WriteLine(string.Join('\n', after.Where(m => m.Key.StartsWith("aitbc_node_", StringComparison.Ordinal)).Select(m => $"{m.Key} {m.Value}")));
        Assert.Equal(height, after["aitbc_node_height"]);
        Assert.Equal(4, after["aitbc_node_txs_total"]);
        Assert.Equal(0, after["aitbc_node_mempool_size"]);
        Assert.True(after["aitbc_node_block_time_seconds_count"] >= 1);
        Assert.True(after["aitbc_node_block_time_seconds_sum"] >= BlockIntervalMs / 1000.0 * 0.9,
            $"block time sum {after["aitbc_node_block_time_seconds_sum"]}s for blocks at least {BlockIntervalMs} ms apart");
        Assert.True(after["aitbc_node_rpc_requests_total{method=\"broadcast_tx_commit\",outcome=\"ok\"}"] >= 1);
        Assert.True(after["aitbc_node_block_txs_count"] >= 2);

        // node.log under <data-dir>/logs holds the startup line and a line per committed block.
        Assert.True(File.Exists(node.LogPath), $"no {node.LogPath}");
        var log = await Poll.UntilAsync(async () =>
        {
            var text = await ReadSharedAsync(node.LogPath);
            return text.Contains($"committed block {height} ", StringComparison.Ordinal) ? text : null;
        }, TimeSpan.FromSeconds(10), $"'committed block {height}' in node.log");
        Assert.Contains("committed block 1 with 1 txs (0 failed) app_hash=", log);
        Assert.Contains($"for chain {net.ChainId} at height 0 (validator)", log);
    }

    /// <summary>Prometheus text format → series (name with labels as written) → value.</summary>
    private static Dictionary<string, double> Parse(string text)
    {
        var series = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var split = line.LastIndexOf(' ');
            series[line[..split]] = double.Parse(line[(split + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        foreach (var name in new[] { "aitbc_node_height", "aitbc_node_txs_total", "aitbc_node_mempool_size", "aitbc_node_block_time_seconds_sum", "aitbc_node_block_time_seconds_count" })
        {
            Assert.True(series.ContainsKey(name), $"/metrics lacks {name}:\n{text}");
        }
        return series;
    }

    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
