using System.CommandLine;
using System.Text.Json;
using Aitbc.Load;

var txs = new Option<int>("--txs") { Description = "Signed transfers to send", DefaultValueFactory = _ => 50_000 };
var senders = new Option<int>("--senders") { Description = "Distinct sending accounts", DefaultValueFactory = _ => 500 };
var connections = new Option<int>("--connections") { Description = "Concurrent HTTP clients", DefaultValueFactory = _ => 8 };
var batch = new Option<int>("--batch") { Description = "broadcast_tx_sync calls per JSON-RPC batch (1 = no batching)", DefaultValueFactory = _ => 100 };
var interval = new Option<int>("--block-interval-ms") { Description = "Genesis block interval", DefaultValueFactory = _ => 200 };
var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
var warmup = new Option<int>("--warmup") { Description = "Unmeasured transfers sent first so JIT and caches settle", DefaultValueFactory = _ => 20_000 };
var rate = new Option<int>("--rate") { Description = "Offered load in tx/s (0 = as fast as the node admits)", DefaultValueFactory = _ => 0 };
var chain = new Command("chain", "Signed transfers per second from broadcast to commit against a real aitbc-node process, with commit latency percentiles")
{
    txs, senders, connections, batch, interval, json, rate, warmup,
};
chain.SetAction(async (parse, cancellationToken) =>
{
    var report = await ChainLoad.RunAsync(new ChainLoadOptions(parse.GetValue(txs), parse.GetValue(senders), parse.GetValue(connections),
        Math.Max(1, parse.GetValue(batch)), parse.GetValue(interval), TimeSpan.FromSeconds(120), parse.GetValue(rate), parse.GetValue(warmup)), Console.Error, cancellationToken);
    if (parse.GetValue(json))
    {
        Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }
    else
    {
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}");
        Console.WriteLine($"committed {report.Committed}/{report.Accepted} accepted ({report.Rejected} rejected) in {report.Seconds:0.00} s over {report.Blocks} blocks ({report.TxsPerBlock:0} tx/block)");
        Console.WriteLine($"throughput: {report.TxPerSecond:0} tx/s broadcast→commit");
        Console.WriteLine($"commit latency: p50 {report.P50Ms:0} ms, p90 {report.P90Ms:0} ms, p99 {report.P99Ms:0} ms, max {report.MaxMs:0} ms");
        Console.WriteLine($"cpu per tx: node {report.NodeCpuMicrosPerTx:0} µs, load tool {report.LoadCpuMicrosPerTx:0} µs");
        if (report.Rejected > 0)
        {
            Console.WriteLine($"first rejection: {report.FirstRejection}");
        }
    }
    return report.Committed == report.Accepted && report.Rejected == 0 ? 0 : 1;
});
var jobCount = new Option<int>("--jobs") { Description = "Measured jobs", DefaultValueFactory = _ => 2_000 };
var jobWarmup = new Option<int>("--warmup") { Description = "Unmeasured jobs run first so JIT and caches settle", DefaultValueFactory = _ => 200 };
var clients = new Option<int>("--clients") { Description = "Concurrent clients (closed loop: each submits, waits for its result, submits the next)", DefaultValueFactory = _ => 10 };
var miners = new Option<int>("--miners") { Description = "Miners", DefaultValueFactory = _ => 2 };
var capacity = new Option<int>("--miner-capacity") { Description = "Jobs each miner runs at once", DefaultValueFactory = _ => 64 };
var latency = new Option<int>("--backend-latency-ms") { Description = "Latency of the in-process Ollama-compatible backend (0 = instant)", DefaultValueFactory = _ => 0 };
var submitOnly = new Option<bool>("--submit-only") { Description = "Only POST /v1/jobs (no miners): submissions per second" };
var jobInterval = new Option<int>("--block-interval-ms") { Description = "Genesis block interval", DefaultValueFactory = _ => 200 };
var settle = new Option<int>("--settle-seconds")
{
    Description = "After --warmup, go on warming up (2 s rounds) until a round spends under 1 % of its time in the JIT, for at most this long (0: measure at once)",
    DefaultValueFactory = _ => 60,
};
var perfRecord = new Option<string?>("--perf-record")
{
    Description = "Record the measured run (not the warm-up) with Linux perf into this file; read it with `profile FILE` (see scripts/profile-jobs.sh)",
};
var metricsOut = new Option<string?>("--metrics-out")
{
    Description = "Write what the coordinator's Prometheus metrics gained during the measured run (counters and histograms as differences) to this file",
};
var jobJson = new Option<bool>("--json") { Description = "Print the report as JSON" };
var header = new Option<bool>("--header") { Description = "Print the markdown table header before the row" };
var jobsCommand = new Command("jobs", "Jobs through a whole in-process network (node, coordinator on SQLite, miners on an Ollama-compatible backend) over HTTP")
{
    jobCount, jobWarmup, settle, perfRecord, metricsOut, clients, miners, capacity, latency, submitOnly, jobInterval, jobJson, header,
};
jobsCommand.SetAction(async (parse, cancellationToken) =>
{
    var report = await JobLoad.RunAsync(new JobLoadOptions(parse.GetValue(jobCount), parse.GetValue(jobWarmup), Math.Max(1, parse.GetValue(clients)),
        parse.GetValue(miners), parse.GetValue(capacity), parse.GetValue(latency), parse.GetValue(submitOnly), parse.GetValue(jobInterval),
        TimeSpan.FromSeconds(120))
    { SettleLimit = TimeSpan.FromSeconds(Math.Max(0, parse.GetValue(settle))), PerfRecord = parse.GetValue(perfRecord), MetricsOut = parse.GetValue(metricsOut) }, Console.Error, cancellationToken);
    if (parse.GetValue(jobJson))
    {
        Console.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
    }
    else
    {
        if (parse.GetValue(header))
        {
            Console.WriteLine(JobLoad.TableHeader);
        }
        Console.WriteLine(JobLoad.TableRow(report));
    }
    if (report.FirstError.Length > 0)
    {
        Console.Error.WriteLine($"first error: {report.FirstError}");
    }
    return report.Failed == 0 ? 0 : 1;
});
var root = new RootCommand("aitbc-load: load tool for AITBC services") { chain, jobsCommand, ScaleCommands.Scale(), ScaleCommands.Timeline(), ScaleCommands.Median(), ProfileSummary.Command(), HttpFloor.Command() };
return await root.Parse(args).InvokeAsync();
