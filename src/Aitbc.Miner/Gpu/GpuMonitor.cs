using System.Diagnostics;
using System.Globalization;

namespace Aitbc.Miner.Gpu;

/// <summary>One GPU as <c>nvidia-smi</c> reports it; a field the driver does not report is null.</summary>
public sealed record GpuDevice(string Name, double? UtilizationPercent, long? MemoryUsedMiB, long? MemoryTotalMiB);

/// <summary>All GPUs at one moment.</summary>
public sealed record GpuSample(IReadOnlyList<GpuDevice> Devices)
{
    /// <summary>Mean utilization over the GPUs that report one; null when none does.</summary>
    public double? UtilizationPercent =>
        Devices.Where(d => d.UtilizationPercent is not null).Select(d => d.UtilizationPercent!.Value).DefaultIfEmpty(double.NaN)
            .Average() is var mean && double.IsNaN(mean) ? null : mean;

    /// <summary>What the miner registers as its <c>gpu</c>, e.g. "2x NVIDIA H100 80GB HBM3".</summary>
    public string Description =>
        string.Join(", ", Devices.GroupBy(d => d.Name).Select(g => g.Count() == 1 ? g.Key : $"{g.Count()}x {g.Key}"));
}

/// <summary>
/// Samples GPU utilization and memory from <c>nvidia-smi</c>. On a machine without it (or whose driver does not
/// answer) every sample is null: the miner reports the GPU as absent, never as an idle 0 %.
/// </summary>
public sealed class GpuMonitor
{
    /// <summary>The arguments: one CSV line per GPU, numbers without units, the name last since it may hold commas.</summary>
    public const string Arguments =
        "--query-gpu=utilization.gpu,memory.used,memory.total,name --format=csv,noheader,nounits";

    private static readonly TimeSpan SampleTimeout = TimeSpan.FromSeconds(5);

    /// <param name="nvidiaSmiPath">The binary to run; null when there is none.</param>
    public GpuMonitor(string? nvidiaSmiPath) => NvidiaSmiPath = nvidiaSmiPath;

    public string? NvidiaSmiPath { get; }

    public bool Available => NvidiaSmiPath is not null;

    /// <summary>Finds <c>nvidia-smi</c> on <paramref name="searchPath"/> (the <c>PATH</c> variable when null).</summary>
    public static GpuMonitor Detect(string? searchPath = null)
    {
        var directories = (searchPath ?? Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var found = directories
            .Select(dir => Path.Combine(dir, OperatingSystem.IsWindows() ? "nvidia-smi.exe" : "nvidia-smi"))
            .FirstOrDefault(File.Exists);
        return new GpuMonitor(found);
    }

    /// <summary>One sample of every GPU; null when there is no <c>nvidia-smi</c> or it fails.</summary>
    public async Task<GpuSample?> SampleAsync(CancellationToken ct)
    {
        if (NvidiaSmiPath is null)
        {
            return null;
        }
        var start = new ProcessStartInfo(NvidiaSmiPath, Arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(SampleTimeout);
        Process? process = null;
        try
        {
            process = Process.Start(start);
            if (process is null)
            {
                return null;
            }
            var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
            _ = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                return null;
            }
            var devices = Parse(await output.ConfigureAwait(false));
            return devices.Count == 0 ? null : new GpuSample(devices);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // A hung driver: no reading beats a made-up one.
            return null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // Present but not runnable (permissions, wrong architecture): the same as absent.
            return null;
        }
        finally
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
            }
            process?.Dispose();
        }
    }

    /// <summary>Parses <c>nvidia-smi</c>'s CSV; values such as <c>[N/A]</c> become null, lines that make no sense are skipped.</summary>
    public static IReadOnlyList<GpuDevice> Parse(string csv)
    {
        var devices = new List<GpuDevice>();
        foreach (var line in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split(',', 4, StringSplitOptions.TrimEntries);
            if (fields.Length != 4 || fields[3].Length == 0)
            {
                continue;
            }
            devices.Add(new GpuDevice(
                fields[3],
                double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var util) ? util : null,
                long.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var used) ? used : null,
                long.TryParse(fields[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var total) ? total : null));
        }
        return devices;
    }
}
