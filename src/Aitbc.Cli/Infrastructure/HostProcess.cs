using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Aitbc.Cli.Infrastructure;

/// <summary>
/// Runs <c>dotnet HOST.dll ARGS</c> on aitbc's own stdin, stdout and stderr until it exits, and returns its exit code.
/// Ctrl-C and SIGTERM do not end aitbc: it passes them on to the host, which stops its services cleanly, and waits.
/// </summary>
internal static class HostProcess
{
    private const int SigInt = 2;
    private const int SigTerm = 15;

    public static async Task<int> RunAsync(string dll, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(Muxer()) { UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var host = new Process { StartInfo = info };
        var gate = new Lock();
        var started = false;
        int? pending = null;

        // At a terminal the host, in aitbc's process group, gets Ctrl-C from the terminal as well; a second SIGINT
        // only repeats the request to stop. From `kill PID` (a supervisor, a test) only aitbc hears it.
        void Forward(int signal)
        {
            lock (gate)
            {
                if (!started)
                {
                    pending = signal;
                }
                else if (!OperatingSystem.IsWindows() && !host.HasExited)
                {
                    _ = Kill(host.Id, signal);
                }
            }
        }

        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            Forward(SigInt);
        });
        using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            Forward(SigTerm);
        });
        using var cancelled = cancellationToken.Register(() => Forward(SigInt));
        try
        {
            host.Start();
        }
        catch (Win32Exception e)
        {
            throw new CliUsageException($"cannot start '{info.FileName} {dll}': {e.Message}; is the .NET SDK or runtime on PATH?");
        }
        lock (gate)
        {
            started = true;
        }
        if (pending is { } signal)
        {
            Forward(signal);
        }
        await host.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        return host.ExitCode;
    }

    /// <summary>The <c>dotnet</c> running aitbc, else the one beside the runtime it runs on (an apphost or a tool shim), else PATH's.</summary>
    private static string Muxer()
    {
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } self && string.Equals(Path.GetFileName(self), name, StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }
        // The runtime lives in DOTNET_ROOT/shared/Microsoft.NETCore.App/VERSION/.
        var beside = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..", name));
        return File.Exists(beside) ? beside : name;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
