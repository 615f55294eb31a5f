using System.Diagnostics;
using Xunit.Abstractions;

namespace Aitbc.Faults.Tests;

/// <summary>
/// Each scenario runs a steady load of jobs (<see cref="LoadDriver"/>) while one fault is injected at seeded random
/// moments, heals the network, then checks every invariant (<see cref="InvariantChecker"/>) and reports the counts.
/// A single lost job, a double payment or an escrow left open fails the scenario.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultScenarioTests(FaultNetwork net, ITestOutputHelper output)
{
    [Fact]
    public Task Node_killed_and_restarted_under_load_loses_nothing() =>
        RunAsync("node kill -9", seed: 1, async (random, watch) =>
        {
            var kills = await KillRepeatedlyAsync(random, watch, 3, async () =>
            {
                await net.Net.NodeProcess.KillAsync();
                await Task.Delay(random.Next(200, 1000));
                await net.Net.StartNodeAsync();
            });
            return $"{kills.Count} kills of the node at {At(kills)}";
        });

    [Fact]
    public Task Coordinator_killed_and_restarted_under_load_loses_nothing() =>
        RunAsync("coordinator kill -9", seed: 2, async (random, watch) =>
        {
            var kills = await KillRepeatedlyAsync(random, watch, 3, async () =>
            {
                await net.Net.Coordinator.KillAsync();
                await Task.Delay(random.Next(200, 1000));
                await net.StartCoordinatorAsync();
            });
            return $"{kills.Count} kills of the coordinator at {At(kills)}";
        });

    [Fact]
    public Task Miner_killed_and_restarted_under_load_loses_nothing() =>
        RunAsync("miner kill -9", seed: 3, async (random, watch) =>
        {
            var victims = new List<int>();
            var kills = await KillRepeatedlyAsync(random, watch, 3, async () =>
            {
                var index = random.Next(FaultNetwork.MinerCount);
                victims.Add(index + 1);
                await net.Miners[index].KillAsync();
                await Task.Delay(random.Next(200, 1000));
                await net.StartMinerAsync(index);
            });
            return $"{kills.Count} kills of miners {string.Join(", ", victims)} at {At(kills)}";
        });

    [Fact]
    public Task Backend_stalled_past_the_deadline_then_recovered_loses_nothing() =>
        RunAsync("backend stall", seed: 4, async (random, watch) =>
        {
            await Task.Delay(random.Next(2000, 3000));
            var from = watch.Elapsed;
            net.Ollama.GateOf(NetworkOllama.QuickModel).Close();
            // Longer than a job's TTL: every job on the backend meanwhile passes its deadline there.
            await Task.Delay(TimeSpan.FromSeconds(LoadDriver.TtlSeconds + 1));
            net.Ollama.GateOf(NetworkOllama.QuickModel).Open();
            return $"backend stalled {Seconds(from)}–{Seconds(watch.Elapsed)}";
        });

    [Fact]
    public Task Node_refusing_the_coordinator_for_a_while_loses_nothing() =>
        RunAsync("node refuses transactions", seed: 5, async (random, watch) =>
        {
            await Task.Delay(random.Next(2000, 3000));
            var from = watch.Elapsed;
            net.NodeLink.Cut();
            await Task.Delay(TimeSpan.FromSeconds(5));
            net.NodeLink.Restore();
            return $"node refused the coordinator {Seconds(from)}–{Seconds(watch.Elapsed)}";
        });

    [Fact]
    public Task Node_disk_full_under_load_loses_nothing() =>
        RunAsync("node disk full", seed: 6, async (random, watch) =>
        {
            await Task.Delay(random.Next(2000, 3000));
            var from = watch.Elapsed;
            if (!net.NodeDiskMounted)
            {
                // No tmpfs here: a failed write stops the node's block producer, and so the node; a kill stands in for it.
                await net.Net.NodeProcess.KillAsync();
                await Task.Delay(2000);
                await net.Net.StartNodeAsync();
                return $"mount not permitted: disk full simulated as the node stopping on a failed write, {Seconds(from)}–{Seconds(watch.Elapsed)}";
            }
            var filler = Path.Combine(net.NodeDiskRoot, "filler");
            var filled = await FillAsync(filler);
            // What the node does with no room: a block commit fails and the node stops, or it keeps running on what it has.
            var stopped = false;
            try
            {
                await Poll.UntilAsync(() => Task.FromResult(net.Net.NodeProcess.HasExited), 8_000);
                stopped = true;
            }
            catch (TimeoutException)
            {
            }
            var observed = stopped
                ? $"node stopped (exit code {net.Net.NodeProcess.ExitCode})"
                : "node still running";
            File.Delete(filler);
            if (stopped)
            {
                // Stopping is fine; stopping with exit code 0 is not: systemd's Restart=on-failure would leave the node down.
                Assert.NotEqual(0, net.Net.NodeProcess.ExitCode);
                await net.Net.StartNodeAsync();
            }
            return $"node tmpfs filled ({filled / (1024 * 1024)} MiB filler) {Seconds(from)}–{Seconds(watch.Elapsed)}: {observed}, freed{(stopped ? " and restarted" : "")}";
        });

    private Task RunAsync(string scenario, int seed, Func<Random, Stopwatch, Task<string>> inject) => Scenario.RunAsync(net, output, scenario, seed, inject);

    private static Task<List<TimeSpan>> KillRepeatedlyAsync(Random random, Stopwatch watch, int times, Func<Task> kill) => Scenario.KillRepeatedlyAsync(random, watch, times, kill);

    /// <summary>Writes zeros to <paramref name="path"/> until the disk is full; returns the bytes written.</summary>
    private static async Task<long> FillAsync(string path)
    {
        var chunk = new byte[1024 * 1024];
        long written = 0;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        try
        {
            while (true)
            {
                await file.WriteAsync(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
        return written;
    }

    private static string At(IEnumerable<TimeSpan> times) => Scenario.At(times);

    private static string Seconds(TimeSpan time) => Scenario.Seconds(time);
}
