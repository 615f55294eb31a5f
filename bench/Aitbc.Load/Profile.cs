using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Aitbc.Load;

/// <summary>
/// Records this process with Linux <c>perf</c> (sampled CPU stacks) while a measured run lasts. JIT-compiled frames are
/// named through the runtime's perf map (<c>DOTNET_PerfMapEnabled=1</c>, set by <c>scripts/profile-jobs.sh</c>).
/// </summary>
public sealed class PerfRecording : IAsyncDisposable
{
    private readonly Process _perf;

    private PerfRecording(Process perf) => _perf = perf;

    public static async Task<PerfRecording> StartAsync(string output, int frequency, TextWriter log, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("perf")
        {
            ArgumentList = { "record", "-F", frequency.ToString(CultureInfo.InvariantCulture), "-g", "-p", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "-o", output },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        Process perf;
        try
        {
            perf = Process.Start(start) ?? throw new InvalidOperationException("perf did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("--perf-record needs Linux perf on PATH (Debian: apt-get install linux-perf)", e);
        }
        // perf attaches within a few milliseconds; give it a moment so the run's first samples are not lost.
        await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
        if (perf.HasExited)
        {
            throw new InvalidOperationException($"perf record exited at once: {await perf.StandardError.ReadToEndAsync(cancellationToken)}");
        }
        log.WriteLine($"perf record: sampling this process at {frequency} Hz into {output}");
        return new PerfRecording(perf);
    }

    /// <summary>Stops perf the way Ctrl-C does, so it writes a complete file.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_perf.HasExited)
        {
            using var interrupt = Process.Start("kill", ["-INT", _perf.Id.ToString(CultureInfo.InvariantCulture)]);
            await interrupt.WaitForExitAsync();
        }
        await _perf.WaitForExitAsync();
        _perf.Dispose();
    }
}

/// <summary>
/// Where the CPU of a recorded run went, from <c>perf script</c> text: by the code on top of the stack (our managed code,
/// the runtime, SQLite, the kernel, libsodium…), by service (the innermost frame of a service's namespace), and the methods
/// of ours found innermost on the stack.
/// </summary>
public static partial class ProfileSummary
{
    // A JIT-compiled frame from the perf map: "[module] Namespace.Type::Method(" after an optional return type.
    [GeneratedRegex(@"\[(?<module>[^\]]+)\] (?<name>[^\s(\[]+::[^(\[]+)\(")]
    private static partial Regex ManagedFrame();

    // An async method's state machine, "Type+<Method>d__12::MoveNext", read as "Type.Method".
    [GeneratedRegex(@"\+<(?<method>[^>]+)>d__\d+::MoveNext$")]
    private static partial Regex AsyncStateMachine();

    private static readonly (string Prefix, string Service)[] Services =
    [
        ("Aitbc.Coordinator.", "coordinator"),
        ("Aitbc.Node.", "node"),
        ("Aitbc.Chain.", "node"),
        ("Aitbc.Miner.", "miner"),
        ("Aitbc.Load.", "load generator (clients, fake Ollama)"),
        ("Program", "load generator (clients, fake Ollama)"),
        ("Aitbc.Devnet.", "load generator (clients, fake Ollama)"),
    ];

    public sealed record Summary(int Samples, IReadOnlyList<(string Name, int Samples)> Leaf, IReadOnlyList<(string Name, int Samples)> Service,
        IReadOnlyList<(string Name, int Samples)> Innermost);

    public static Summary Summarize(TextReader perfScript, int top = 25)
    {
        var leaf = new Dictionary<string, int>(StringComparer.Ordinal);
        var service = new Dictionary<string, int>(StringComparer.Ordinal);
        var innermost = new Dictionary<string, int>(StringComparer.Ordinal);
        var samples = 0;
        string? thread = null;
        var frames = new List<string>();
        void Flush()
        {
            if (frames.Count > 0)
            {
                samples++;
                Count(leaf, Leaf(frames[0]));
                var names = frames.Select(f => ManagedFrame().Match(f)).Where(m => m.Success).Select(m => Clean(m.Groups["name"].Value)).ToList();
                Count(service, ServiceOf(thread ?? "", names, frames[0]));
                Count(innermost, names.FirstOrDefault(n => n.StartsWith("Aitbc.", StringComparison.Ordinal)) ?? "(none of ours on the stack)");
            }
            frames.Clear();
        }
        while (perfScript.ReadLine() is { } line)
        {
            if (line.Length == 0)
            {
                Flush();
            }
            else if (line[0] is '\t' or ' ')
            {
                frames.Add(line.Trim());
            }
            else
            {
                Flush();
                thread = line;
            }
        }
        Flush();
        static List<(string, int)> Sorted(Dictionary<string, int> counts, int limit) =>
            [.. counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal).Take(limit).Select(c => (c.Key, c.Value))];
        return new Summary(samples, Sorted(leaf, int.MaxValue), Sorted(service, int.MaxValue), Sorted(innermost, top));
    }

    public static string Markdown(Summary summary)
    {
        var text = new StringBuilder();
        void Table(string title, IReadOnlyList<(string Name, int Samples)> rows)
        {
            text.Append(CultureInfo.InvariantCulture, $"| {title} | share of CPU samples |\n|---|---:|\n");
            foreach (var (name, count) in rows)
            {
                text.Append(CultureInfo.InvariantCulture, $"| {name.Replace("|", "\\|", StringComparison.Ordinal)} | {100.0 * count / Math.Max(1, summary.Samples):0.0} % |\n");
            }
            text.Append('\n');
        }
        text.Append(CultureInfo.InvariantCulture, $"{summary.Samples:N0} samples\n\n");
        Table("code on top of the stack", summary.Leaf);
        Table("service (innermost frame of a service's code)", summary.Service);
        Table("innermost method of ours", summary.Innermost);
        return text.ToString();
    }

    /// <summary><c>profile FILE</c>: runs <c>perf script</c> on a recording and prints the three tables.</summary>
    public static Command Command()
    {
        var file = new Argument<string>("perf-data") { Description = "A perf.data file written by `jobs --perf-record`" };
        var top = new Option<int>("--top") { Description = "Rows of the innermost-method table", DefaultValueFactory = _ => 25 };
        var command = new Command("profile", "Where the CPU of a `jobs --perf-record` run went: by code on top of the stack, by service, by method") { file, top };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var start = new ProcessStartInfo("perf")
            {
                ArgumentList = { "script", "-F", "comm,tid,ip,sym,dso", "-i", parse.GetValue(file)! },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            using var perf = Process.Start(start)!;
            var errors = perf.StandardError.ReadToEndAsync(cancellationToken);
            var summary = Summarize(perf.StandardOutput, parse.GetValue(top));
            await perf.WaitForExitAsync(cancellationToken);
            if (summary.Samples == 0)
            {
                await Console.Error.WriteLineAsync($"no samples read: {await errors}");
                return 1;
            }
            Console.Write(Markdown(summary));
            return 0;
        });
        return command;
    }

    private static void Count(Dictionary<string, int> counts, string key) => counts[key] = counts.GetValueOrDefault(key) + 1;

    private static string Clean(string name) => AsyncStateMachine().Replace(name, m => "." + m.Groups["method"].Value).Replace("::", ".", StringComparison.Ordinal);

    private static string Leaf(string frame) => frame switch
    {
        _ when frame.Contains("libclrjit", StringComparison.Ordinal) => "JIT compiler",
        _ when frame.Contains("e_sqlite3", StringComparison.Ordinal) => "SQLite engine",
        _ when frame.Contains("kernel.kallsyms", StringComparison.Ordinal) => "kernel (sockets, files, scheduling)",
        _ when frame.Contains("libsodium", StringComparison.Ordinal) => "libsodium (Ed25519 signing and verification)",
        _ when frame.Contains("libcrypto", StringComparison.Ordinal) || frame.Contains("libssl", StringComparison.Ordinal) => "OpenSSL (SHA-256)",
        _ when frame.Contains("libcoreclr", StringComparison.Ordinal) || frame.Contains(" stub ", StringComparison.Ordinal) || frame.StartsWith("stub ", StringComparison.Ordinal)
            => "runtime (GC, allocation, type checks, stubs)",
        _ when frame.Contains("libc.so", StringComparison.Ordinal) || frame.Contains("ld-linux", StringComparison.Ordinal) || frame.Contains("libSystem.Native", StringComparison.Ordinal)
            => "libc (memcpy, malloc, locks)",
        _ when frame.Contains("/tmp/perf-", StringComparison.Ordinal) || frame.Contains(".dll", StringComparison.Ordinal) => "managed code",
        _ => "other native code",
    };

    private static string ServiceOf(string thread, List<string> names, string leafFrame)
    {
        if (thread.Contains(".NET Tiered Com", StringComparison.Ordinal))
        {
            return "JIT: background tier-up compilation";
        }
        foreach (var name in names)
        {
            foreach (var (prefix, service) in Services)
            {
                if (name.StartsWith(prefix, StringComparison.Ordinal))
                {
                    return service;
                }
            }
        }
        var all = string.Join(' ', names);
        return all switch
        {
            _ when all.Contains("Kestrel", StringComparison.Ordinal) => "HTTP server, outside our handlers (Kestrel)",
            _ when all.Contains("System.Net.Http", StringComparison.Ordinal) => "HTTP client, outside our callers (HttpClient)",
            _ when all.Contains("Aitbc.", StringComparison.Ordinal) => "shared libraries of ours outside a service",
            _ when names.Count > 0 => "other managed code (thread pool, timers, GC threads)",
            _ => $"unknown caller: {Leaf(leafFrame)}",
        };
    }
}
