using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Aitbc.Load;

/// <summary>
/// A service (<c>aitbc-node</c>, <c>aitbc-coordinator</c>) run as its own process from the load tool's output directory,
/// on a free loopback port, so that its memory is its own: <see cref="PeakRssMiB"/> is the kernel's high-water mark.
/// </summary>
public sealed class ScaleProcess : IAsyncDisposable
{
    private readonly Process _process;

    private ScaleProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    public int ProcessId => _process.Id;

    /// <summary>Peak resident set (VmHWM) since the process started, in MiB.</summary>
    public double PeakRssMiB => ProcStatusMiB(_process.Id, "VmHWM:");

    /// <summary>Resident set now (VmRSS), in MiB.</summary>
    public double RssMiB => ProcStatusMiB(_process.Id, "VmRSS:");

    /// <summary>Starts <c>dotnet NAME.dll ARGS --port P</c> and waits until <c>/healthz</c> answers 200.</summary>
    public static async Task<ScaleProcess> StartAsync(string name, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
        foreach (var arg in args.Concat(["--port", port.ToString(CultureInfo.InvariantCulture)]))
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {name}");
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Keep(string? line)
        {
            if (line is not null)
            {
                output.Enqueue(line);
                while (output.Count > 50 && output.TryDequeue(out _))
                {
                }
            }
        }
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ScaleProcess(process, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"{name} exited with {process.ExitCode}: {string.Join('\n', output)}");
            }
            try
            {
                using var response = await http.GetAsync(new Uri(service.Url, "healthz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return service;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(100, cancellationToken);
        }
        await service.DisposeAsync();
        throw new TimeoutException($"{name} did not become healthy within {timeout.TotalSeconds:0} s: {string.Join('\n', output)}");
    }

    /// <summary>A /proc/PID/status field in MiB (NaN where /proc cannot be read).</summary>
    public static double ProcStatusMiB(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? double.NaN : long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the service the way a supervisor does (SIGTERM, then SIGKILL after 15 s).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit();
                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }
        _process.Dispose();
    }
}
