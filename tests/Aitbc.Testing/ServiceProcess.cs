using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Aitbc.Testing;

/// <summary>
/// A real AITBC process (<c>dotnet aitbc-node.dll …</c>, <c>aitbc-coordinator</c>, <c>aitbc-miner</c>, <c>aitbc</c>)
/// started from the dlls a project reference copied next to the tests. <see cref="KillAsync"/> is SIGKILL of the
/// whole tree: none of the service's shutdown code runs.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);
    private const int OutputLines = 400;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    private string? _caCertificate;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote to stdout and stderr, for failure messages.</summary>
    public string OutputTail => string.Join('\n', _output);

    /// <summary>
    /// The dll of <paramref name="assemblyName"/> in its own project's build output (same configuration as the tests),
    /// so it runs with its own deps.json: a copy in the test output would resolve packages the way the test project
    /// does. A project reference from the test project makes sure it is built.
    /// </summary>
    public static string Dll(string assemblyName)
    {
        var project = assemblyName switch
        {
            "aitbc" => "Aitbc.Cli",
            "aitbc-devnet" => "Aitbc.Devnet",
            "aitbc-node" => "Aitbc.Node",
            "aitbc-coordinator" => "Aitbc.Coordinator",
            "aitbc-miner" => "Aitbc.Miner",
            _ => throw new ArgumentException($"no project builds {assemblyName}", nameof(assemblyName)),
        };
        var output = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var configuration = output.Parent!.Name;
        var dll = Path.Combine(RepoRoot, "src", project, "bin", configuration, output.Name, assemblyName + ".dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing; build src/{project} -c {configuration} (the test project references it)", dll);
    }

    /// <summary>The repository root: the first folder above the test binaries that holds Aitbc.slnx.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aitbc.slnx")))
                {
                    return dir.FullName;
                }
            }
            throw new DirectoryNotFoundException($"no Aitbc.slnx above {AppContext.BaseDirectory}");
        }
    }

    /// <summary>Starts <c>dotnet ASSEMBLY.dll ARGS</c>; with <paramref name="healthUrl"/> returns once it answers 200.</summary>
    public static async Task<ServiceProcess> StartAsync(string assemblyName, IEnumerable<string> args, Uri? healthUrl = null,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken cancellationToken = default)
    {
        var process = new Process { StartInfo = StartInfo(Dll(assemblyName), args, environment), EnableRaisingEvents = true };
        // An https service's health is probed trusting the CA the service itself was told to trust.
        var service = new ServiceProcess(assemblyName, process) { _caCertificate = environment?.GetValueOrDefault(Aitbc.Core.Net.Tls.CaCertificateVariable) };
        process.OutputDataReceived += (_, e) => service.Record(e.Data);
        process.ErrorDataReceived += (_, e) => service.Record(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (healthUrl is not null)
        {
            try
            {
                await service.WaitHealthyAsync(healthUrl, cancellationToken);
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }
        return service;
    }

    /// <summary>Runs <c>dotnet ASSEMBLY.dll ARGS</c> to its end: exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string assemblyName, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        await RunFileAsync("dotnet", [Dll(assemblyName), .. args], environment, timeout);

    /// <summary>Runs any program to its end (a shell script, say): exit code, stdout and stderr.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunFileAsync(string file, IEnumerable<string> args,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Configure(info, environment);
        using var process = new Process { StartInfo = info };
        process.Start();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? StartTimeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not exit within {(timeout ?? StartTimeout).TotalSeconds}s:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
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

    public async Task WaitHealthyAsync(Uri healthUrl, CancellationToken cancellationToken = default)
    {
        using var probe = new HttpClient(Aitbc.Core.Net.Tls.CreateClientHandler(_caCertificate)) { Timeout = TimeSpan.FromSeconds(2) };
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was healthy:\n{OutputTail}");
            }
            try
            {
                using var response = await probe.GetAsync(healthUrl, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
            if (watch.Elapsed > StartTimeout)
            {
                throw new TimeoutException($"{Name} not healthy at {healthUrl} after {StartTimeout.TotalSeconds}s:\n{OutputTail}");
            }
            await Task.Delay(50, cancellationToken);
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

    private static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        Configure(info, environment);
        return info;
    }

    private static void Configure(ProcessStartInfo info, IReadOnlyDictionary<string, string>? environment)
    {
        // Lean on a small machine: workstation GC; no telemetry; and nothing from the developer's own ~/.aitbc.
        info.Environment["DOTNET_gcServer"] = "0";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
