using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Aitbc.Faults.Tests;

/// <summary>
/// How a fault scenario runs: a steady load of jobs (<see cref="LoadDriver"/>) while a fault is injected at seeded
/// random moments, then the network healed and every invariant (<see cref="InvariantChecker"/>) checked.
/// </summary>
public static class Scenario
{
    public static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(12);

    public static async Task RunAsync(FaultNetwork net, ITestOutputHelper output, string scenario, int seed, Func<Random, Stopwatch, Task<string>> inject)
    {
        await net.HealAsync();
        var checker = new InvariantChecker(net);
        var before = await checker.SnapshotAsync();
        var watch = Stopwatch.StartNew();
        var load = new LoadDriver(net, seed).RunAsync(LoadDuration);
        string faults;
        try
        {
            faults = await inject(new Random(seed), watch);
        }
        finally
        {
            await net.HealAsync();
        }
        var result = await load;
        var report = await checker.CheckAsync(scenario, faults, result, before);
        output.WriteLine(report.ToString());
        if (report.Lost > 0 || report.Violations.Count > 0)
        {
            // What the services said about the jobs that went wrong, for whoever reads the failure.
            var named = report.Violations.SelectMany(v => v.Split(' ')).Where(w => w.StartsWith("job_", StringComparison.Ordinal)).Distinct().Take(3).ToList();
            foreach (var log in net.Net.LogFiles())
            {
                foreach (var line in File.ReadLines(log).Where(l => named.Any(l.Contains) || l.Contains("fail", StringComparison.OrdinalIgnoreCase) || l.Contains("crit", StringComparison.OrdinalIgnoreCase)).TakeLast(40))
                {
                    output.WriteLine($"{Path.GetFileName(log)}: {line}");
                }
            }
        }
        Assert.True(report.Lost == 0 && report.Violations.Count == 0, report.ToString());
        Assert.NotEmpty(result.Accepted);
    }

    /// <summary>Runs <paramref name="kill"/> <paramref name="times"/> times at random moments within the load; returns when each began.</summary>
    public static async Task<List<TimeSpan>> KillRepeatedlyAsync(Random random, Stopwatch watch, int times, Func<Task> kill)
    {
        var at = new List<TimeSpan>();
        var slot = LoadDuration / (times + 1);
        for (var i = 0; i < times; i++)
        {
            var next = slot * (i + 0.5) + slot * random.NextDouble();
            if (next > watch.Elapsed)
            {
                await Task.Delay(next - watch.Elapsed);
            }
            at.Add(watch.Elapsed);
            await kill();
        }
        return at;
    }

    public static string At(IEnumerable<TimeSpan> times) => string.Join(", ", times.Select(Seconds));

    public static string Seconds(TimeSpan time) => time.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s";
}
