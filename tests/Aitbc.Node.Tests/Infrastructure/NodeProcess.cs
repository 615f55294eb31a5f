using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>
/// A real aitbc-node process (<c>dotnet aitbc-node.dll start …</c>) on a free port, ready once /healthz answers.
/// <see cref="KillAsync"/> is SIGKILL of the whole process tree: no shutdown code of the node runs.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private const int OutputLines = 300;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private NodeProcess(Process process, string dataDir, int port)
    {
        _process = process;
        DataDir = dataDir;
        Port = port;
        Url = new Uri($"http://127.0.0.1:{port}/");
        Rpc = new RpcClient(Url);
    }

    public string DataDir { get; }

    public int Port { get; }

    public Uri Url { get; }

    public RpcClient Rpc { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string LogPath => Path.Combine(DataDir, "logs", "node.log");

    /// <summary>The last lines the process wrote to stdout and stderr, for failure messages.</summary>
    public string OutputTail => string.Join('\n', _output);

    /// <summary>Runs <c>aitbc-node ARGS</c> to completion (init, keygen): exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(params string[] args)
    {
        using var process = new Process { StartInfo = StartInfo(args) };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"aitbc-node {string.Join(' ', args)} did not exit within {StartTimeout.TotalSeconds}s");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// Starts <c>aitbc-node start --data-dir D --port P [--follow URL]</c> and waits until it serves /healthz.
    /// Without <paramref name="fixedPort"/> it takes a free port (and another if that one is taken meanwhile).
    /// </summary>
    public static async Task<NodeProcess> StartAsync(string dataDir, Uri? follow = null, string moniker = "test-node", int? fixedPort = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = fixedPort ?? FreePort();
            var args = new List<string> { "start", "--data-dir", dataDir, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--moniker", moniker };
            if (follow is not null)
            {
                args.AddRange(["--follow", follow.AbsoluteUri]);
            }
            var process = new Process { StartInfo = StartInfo([.. args]), EnableRaisingEvents = true };
            var node = new NodeProcess(process, dataDir, port);
            process.OutputDataReceived += (_, e) => node.Record(e.Data);
            process.ErrorDataReceived += (_, e) => node.Record(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await node.WaitHealthyAsync(StartTimeout);
                return node;
            }
            catch (InvalidOperationException) when (fixedPort is null && attempt < 3 && node.OutputTail.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                // Another test took the port between our probe and the node's bind: take another.
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        _output.Enqueue(line);
        while (_output.Count > OutputLines && _output.TryDequeue(out _))
        {
        }
    }

    private async Task WaitHealthyAsync(TimeSpan timeout)
    {
        using var probe = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"aitbc-node exited with code {_process.ExitCode} before it was healthy:\n{OutputTail}");
            }
            try
            {
                using var response = await probe.GetAsync("healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"aitbc-node on port {Port} not healthy after {timeout.TotalSeconds}s:\n{OutputTail}");
            }
            await Task.Delay(Poll.Interval);
        }
    }

    /// <summary>kill -9: SIGKILL to the process tree, then wait for it to be gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
    }

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    private static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(RepoPaths.NodeDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // Keep the node lean on a small machine: no tiered-PGO instrumentation, workstation GC.
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return info;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Rpc.Dispose();
        _process.Dispose();
    }
}
