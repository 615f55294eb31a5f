using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Aitbc.Miner.Backends;

namespace Aitbc.Load;

/// <summary>
/// <c>http</c>: the cost of one loopback HTTP/1.1 request with a small JSON body on this machine, both ends in this
/// process (Kestrel minimal API ↔ <see cref="HttpClient"/>), as a floor for what a job's requests must cost. The request is
/// the miner's real backend call (<see cref="OllamaBackend"/> → <see cref="BenchOllama"/>, instant).
/// </summary>
public static class HttpFloor
{
    public static Command Command()
    {
        var clients = new Option<int>("--clients") { Description = "Concurrent callers", DefaultValueFactory = _ => 64 };
        var requests = new Option<int>("--requests") { Description = "Measured requests", DefaultValueFactory = _ => 50_000 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured requests first (the JIT settles)", DefaultValueFactory = _ => 50_000 };
        var command = new Command("http", "CPU per loopback HTTP request (Kestrel ↔ HttpClient, both in this process): a floor for a job's requests")
        {
            clients, requests, warmup,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var callers = Math.Max(1, parse.GetValue(clients));
            await using var backend = await BenchOllama.StartAsync(TimeSpan.Zero, cancellationToken);
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = callers + 4 }) { BaseAddress = backend.Url };
            var ollama = new OllamaBackend(http, TimeSpan.FromMinutes(1));
            Task RunAsync(int count) => JobLoad.ForEachClientAsync(callers, count, static () => false,
                _ => ollama.GenerateAsync(new InferenceRequest(BenchOllama.Model, "floor"), cancellationToken), cancellationToken);
            await RunAsync(parse.GetValue(warmup));
            var count = Math.Max(1, parse.GetValue(requests));
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            await RunAsync(count);
            var cpuMicros = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{count} requests, {callers} callers: {count / wall.Elapsed.TotalSeconds:0} requests/s, {cpuMicros:0} µs of CPU per request (client and server)"));
            return 0;
        });
        return command;
    }
}
