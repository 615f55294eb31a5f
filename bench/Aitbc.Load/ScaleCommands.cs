using System.CommandLine;
using System.Globalization;
using System.Text.Json;

namespace Aitbc.Load;

/// <summary>The <c>scale</c>, <c>timeline</c> and <c>median</c> commands of aitbc-load.</summary>
public static class ScaleCommands
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Scale()
    {
        var sizes = new Option<string>("--sizes") { Description = "Stored blocks and jobs per network, comma-separated (each size is a fresh network)", DefaultValueFactory = _ => "10000,100000,1000000" };
        var rounds = new Option<int>("--rounds") { Description = "Measurement rounds on each seeded network; figures are their medians", DefaultValueFactory = _ => 3 };
        var submitJobs = new Option<int>("--submit-jobs") { Description = "Jobs submitted per round (figures: submissions/s and submit latency)", DefaultValueFactory = _ => 1000 };
        var submitClients = new Option<int>("--submit-clients") { Description = "Concurrent submitting clients", DefaultValueFactory = _ => 16 };
        var e2eJobs = new Option<int>("--e2e-jobs") { Description = "Jobs run end to end per round", DefaultValueFactory = _ => 500 };
        var e2eClients = new Option<int>("--e2e-clients") { Description = "Concurrent closed-loop clients end to end", DefaultValueFactory = _ => 10 };
        var reads = new Option<int>("--reads") { Description = "Timed calls per read query per round (one at a time)", DefaultValueFactory = _ => 200 };
        var workDir = new Option<string>("--work-dir") { Description = "Where the services' data directories live while they run (a disk)", DefaultValueFactory = _ => Path.GetTempPath() };
        var buildDir = new Option<string?>("--build-dir") { Description = "Where the chain is built before it is copied to --work-dir (default /dev/shm when present; 'none' builds in place)" };
        var interval = new Option<int>("--block-interval-ms") { Description = "Genesis block interval", DefaultValueFactory = _ => 200 };
        var json = new Option<bool>("--json") { Description = "Print the reports as JSON instead of markdown tables" };
        var command = new Command("scale", "The same figures on a chain and a coordinator holding N stored blocks and jobs, and each service's peak RSS")
        {
            sizes, rounds, submitJobs, submitClients, e2eJobs, e2eClients, reads, workDir, buildDir, interval, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var build = parse.GetValue(buildDir) switch
            {
                "none" => null,
                null => Directory.Exists("/dev/shm") ? "/dev/shm" : null,
                var dir => dir,
            };
            var options = new ScaleOptions(
                [.. parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => long.Parse(s.Replace("_", "", StringComparison.Ordinal), CultureInfo.InvariantCulture))],
                Math.Max(1, parse.GetValue(rounds)), parse.GetValue(submitJobs), parse.GetValue(submitClients), parse.GetValue(e2eJobs), parse.GetValue(e2eClients),
                Math.Max(1, parse.GetValue(reads)), parse.GetValue(workDir)!, build, parse.GetValue(interval));
            var loadBefore = ScaleLoad.JobLoadAverage();
            var reports = await ScaleLoad.RunAsync(options, Console.Error, cancellationToken);
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(reports, Indented));
            }
            else
            {
                Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}; load average {loadBefore:0.0} before, {ScaleLoad.JobLoadAverage():0.0} after");
                Console.WriteLine();
                Console.WriteLine(ScaleLoad.Tables(reports));
            }
            return reports.All(r => r.Failed == 0) ? 0 : 1;
        });
        return command;
    }

    public static Command Timeline()
    {
        var runs = new Option<int>("--runs") { Description = "Jobs timed per backend (after one unmeasured); each step's figure is their median", DefaultValueFactory = _ => 5 };
        var latency = new Option<int>("--backend-latency-ms") { Description = "Latency of the fixed-latency Ollama-wire backend", DefaultValueFactory = _ => 1000 };
        var noEmbedded = new Option<bool>("--no-embedded") { Description = "Skip the run on the embedded model (llama.cpp, the tiny test model)" };
        var interval = new Option<int>("--block-interval-ms") { Description = "Genesis block interval", DefaultValueFactory = _ => 200 };
        var command = new Command("timeline", "One job at a time through the whole path, timed at each of the seed's 14 steps, on a fixed-latency backend and on the embedded model")
        {
            runs, latency, noEmbedded, interval,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var options = new TimelineOptions(Math.Max(1, parse.GetValue(runs)), parse.GetValue(latency), !parse.GetValue(noEmbedded), parse.GetValue(interval));
            var loadBefore = ScaleLoad.JobLoadAverage();
            var steps = await Load.Timeline.RunAsync(options, Console.Error, cancellationToken);
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}; load average {loadBefore:0.0} before, {ScaleLoad.JobLoadAverage():0.0} after");
            Console.WriteLine();
            Console.WriteLine(Load.Timeline.Table(steps, options));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>median</c>: reads the JSON reports of several <c>jobs --json</c> runs from standard input and prints, per
    /// configuration (mode, clients, miners, backend, jobs), one table row whose every figure is the median of the runs.
    /// </summary>
    public static Command Median()
    {
        var header = new Option<bool>("--header") { Description = "Print the markdown table header first" };
        var command = new Command("median", "Median table rows of `jobs --json` reports read from standard input") { header };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var input = Console.OpenStandardInput();
            using var buffer = new MemoryStream();
            await input.CopyToAsync(buffer, cancellationToken);
            var reports = new List<JobLoadReport>();
            var reader = new Utf8JsonReader(buffer.ToArray(), new JsonReaderOptions { AllowMultipleValues = true });
            while (reader.Read())
            {
                reports.Add(JsonSerializer.Deserialize<JobLoadReport>(ref reader)!);
            }
            if (parse.GetValue(header))
            {
                var lines = JobLoad.TableHeader.Split('\n');
                Console.WriteLine(lines[0] + " runs |");
                Console.WriteLine(lines[1] + "---:|");
            }
            foreach (var group in reports.GroupBy(r => (r.Mode, r.Clients, r.Miners, r.BackendLatencyMs, r.Jobs)))
            {
                Console.WriteLine(JobLoad.TableRow(MedianOf([.. group])) + $" {group.Count()} |");
            }
            return 0;
        });
        return command;
    }

    /// <summary>A report whose every number is the median of <paramref name="runs"/>' (counts summed where a median would hide a failure).</summary>
    internal static JobLoadReport MedianOf(IReadOnlyList<JobLoadReport> runs)
    {
        double M(Func<JobLoadReport, double> field) => ScaleLoad.Median(runs.Select(field));
        var first = runs[0];
        return first with
        {
            Completed = (int)M(r => r.Completed),
            Failed = runs.Sum(r => r.Failed),
            Seconds = M(r => r.Seconds),
            SubmitsPerSecond = M(r => r.SubmitsPerSecond),
            SubmitP50Ms = M(r => r.SubmitP50Ms),
            SubmitP99Ms = M(r => r.SubmitP99Ms),
            CompletedPerSecond = M(r => r.CompletedPerSecond),
            EndToEndP50Ms = M(r => r.EndToEndP50Ms),
            EndToEndP99Ms = M(r => r.EndToEndP99Ms),
            SubmitToAssignP50Ms = M(r => r.SubmitToAssignP50Ms),
            SubmitToAssignP99Ms = M(r => r.SubmitToAssignP99Ms),
            CompleteToVisibleP50Ms = M(r => r.CompleteToVisibleP50Ms),
            CompleteToVisibleP99Ms = M(r => r.CompleteToVisibleP99Ms),
            DirectP50Ms = M(r => r.DirectP50Ms),
            DirectP99Ms = M(r => r.DirectP99Ms),
            OverheadRatioP50 = M(r => r.OverheadRatioP50),
            OverheadRatioP99 = M(r => r.OverheadRatioP99),
            AddedP50Ms = M(r => r.AddedP50Ms),
            AddedP99Ms = M(r => r.AddedP99Ms),
            LoadAverage = M(r => r.LoadAverage),
            CpuMsPerJob = M(r => r.CpuMsPerJob),
            WarmupJobs = (int)M(r => r.WarmupJobs),
            JitMsInRun = M(r => r.JitMsInRun),
            GcPausePercent = M(r => r.GcPausePercent),
            AllocatedKiBPerJob = M(r => r.AllocatedKiBPerJob),
            FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e.Length > 0) ?? "",
        };
    }
}
