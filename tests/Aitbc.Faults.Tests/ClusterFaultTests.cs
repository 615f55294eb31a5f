using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Xunit.Abstractions;

namespace Aitbc.Faults.Tests;

/// <summary>
/// A coordinator cluster (<see cref="FaultNetwork.ClusterSize"/> processes, one key, one PostgreSQL database) under
/// load from clients spread over all of them, while the process holding the chain writer role is killed with
/// <c>kill -9</c> again and again. Besides every invariant of <see cref="InvariantChecker"/>: another process takes the
/// role each time, and the coordinator's transactions on chain are exactly its outbox rows committed in a block (no
/// nonce spent twice or skipped, no settlement sent twice).
/// </summary>
[Collection(ClusterFaultCollection.Name)]
public sealed class ClusterFaultTests(ClusterFaultNetwork net, ITestOutputHelper output)
{
    private static readonly TimeSpan TakeOverTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Chain_writer_killed_three_times_under_load_across_the_cluster_loses_nothing()
    {
        var failovers = new List<TimeSpan>();
        await Scenario.RunAsync(net, output, "chain writer kill -9 in a cluster of 3", seed: 7, async (random, watch) =>
        {
            var victims = new List<int>();
            var kills = await Scenario.KillRepeatedlyAsync(random, watch, 3, async () =>
            {
                var writer = await WriterAsync(except: null);
                victims.Add(writer + 1);
                var sinceKill = Stopwatch.StartNew();
                await net.Coordinators[writer].Process.KillAsync();
                var next = await WriterAsync(except: writer);
                failovers.Add(sinceKill.Elapsed);
                output.WriteLine($"coordinator {next + 1} took the writer role {sinceKill.Elapsed.TotalMilliseconds:0} ms after coordinator {writer + 1} was killed");
                await net.StartCoordinatorAsync(writer);
            });
            return $"{kills.Count} kills of the chain writer (coordinators {string.Join(", ", victims)}) at {Scenario.At(kills)}; "
                + $"the role moved after {string.Join(", ", failovers.Select(f => f.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms"))}";
        });

        Assert.Equal(3, failovers.Count);
        var (open, landed) = await OutboxAsync();
        Assert.Equal(0, open);
        var nonce = (await net.Node.GetAccountAsync(net.Net.CoordinatorKey.Address)).Nonce;
        Assert.Equal((ulong)landed, nonce);
    }

    /// <summary>The index of the one live coordinator process that reports holding the chain writer role (not <paramref name="except"/>).</summary>
    private async Task<int> WriterAsync(int? except)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var giveUpAt = DateTime.UtcNow + TakeOverTimeout;
        while (true)
        {
            var writers = new List<int>();
            for (var i = 0; i < net.Coordinators.Length; i++)
            {
                if (i == except || net.Coordinators[i].Process.HasExited)
                {
                    continue;
                }
                try
                {
                    var metrics = await http.GetStringAsync(new Uri(net.Coordinators[i].Url, "metrics"));
                    if (metrics.Split('\n').Any(l => l.Trim() == "aitbc_coordinator_chain_writer 1"))
                    {
                        writers.Add(i);
                    }
                }
                catch (HttpRequestException)
                {
                }
            }
            Assert.True(writers.Count <= 1, $"coordinators {string.Join(", ", writers.Select(w => w + 1))} all say they hold the writer role");
            if (writers.Count == 1)
            {
                return writers[0];
            }
            Assert.True(DateTime.UtcNow < giveUpAt, $"no coordinator took the chain writer role within {TakeOverTimeout.TotalSeconds} s");
            await Task.Delay(20);
        }
    }

    /// <summary>Outbox rows not yet closed (waited for until none is left), and rows committed in a block.</summary>
    private async Task<(long Open, long Landed)> OutboxAsync()
    {
        await using var connection = new NpgsqlConnection(net.Database);
        await connection.OpenAsync();
        var giveUpAt = DateTime.UtcNow + InvariantChecker.SettleTimeout;
        while (true)
        {
            await using var command = new NpgsqlCommand(
                "SELECT COUNT(*) FILTER (WHERE status NOT IN ('committed', 'refused')), COUNT(*) FILTER (WHERE status = 'committed' AND height IS NOT NULL) FROM outbox", connection);
            await using var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            var (open, landed) = (reader.GetInt64(0), reader.GetInt64(1));
            if (open == 0 || DateTime.UtcNow > giveUpAt)
            {
                return (open, landed);
            }
            await Task.Delay(200);
        }
    }
}
