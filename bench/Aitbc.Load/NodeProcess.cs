using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aitbc.Load;

/// <summary>A real aitbc-node process on a free loopback port, in a temporary data directory.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;

    private NodeProcess(Process process, string dataDirectory, Uri url)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Url = url;
    }

    public string DataDirectory { get; }

    public Uri Url { get; }

    public int ProcessId => _process.Id;

    /// <summary>CPU time the node process has used so far.</summary>
    public TimeSpan CpuTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static string NodeDll => Path.Combine(AppContext.BaseDirectory, "aitbc-node.dll");

    public static async Task<NodeProcess> StartAsync(string dataDirectory, IEnumerable<string> initArgs, CancellationToken cancellationToken)
    {
        var init = await RunAsync(["init", "--data-dir", dataDirectory, .. initArgs], cancellationToken);
        if (init.ExitCode != 0)
        {
            throw new InvalidOperationException($"aitbc-node init failed: {init.Output}");
        }
        var port = FreePort();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { NodeDll, "start", "--data-dir", dataDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start aitbc-node");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var node = new NodeProcess(process, dataDirectory, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync(new Uri(node.Url, "healthz"), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return node;
                }
            }
            catch (HttpRequestException)
            {
            }
            if (process.HasExited)
            {
                throw new InvalidOperationException($"aitbc-node exited with {process.ExitCode}");
            }
            await Task.Delay(50, cancellationToken);
        }
        await node.DisposeAsync();
        throw new TimeoutException("aitbc-node did not become healthy within 30 s");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(NodeDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken) + await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
