using System.Runtime.Versioning;
using Aitbc.Miner.Gpu;

namespace Aitbc.Miner.Tests.Gpu;

// The fake nvidia-smi is a shell script.
[UnsupportedOSPlatform("windows")]
public sealed class GpuMonitorTests : IDisposable
{
    private const string TwoGpus = """
        37, 20480, 81559, NVIDIA H100 80GB HBM3
        [N/A], 512, 81559, NVIDIA H100 80GB HBM3

        """;

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("aitbc-miner-gpu-");

    [Fact]
    public void Parses_one_line_per_gpu_with_unreported_values_as_null()
    {
        var devices = GpuMonitor.Parse(TwoGpus);

        Assert.Equal(
            [
                new GpuDevice("NVIDIA H100 80GB HBM3", 37, 20480, 81559),
                new GpuDevice("NVIDIA H100 80GB HBM3", null, 512, 81559),
            ],
            devices);
        var sample = new GpuSample(devices);
        Assert.Equal(37, sample.UtilizationPercent);
        Assert.Equal("2x NVIDIA H100 80GB HBM3", sample.Description);
    }

    [Fact]
    public void A_name_with_commas_stays_whole_and_garbage_lines_are_skipped()
    {
        var devices = GpuMonitor.Parse("5, 1, 2, Tesla T4, rev A\nNVIDIA-SMI has failed\n");

        Assert.Equal([new GpuDevice("Tesla T4, rev A", 5, 1, 2)], devices);
    }

    [Fact]
    public void Utilization_is_absent_when_no_gpu_reports_one()
    {
        var sample = new GpuSample(GpuMonitor.Parse("[Not Supported], 1, 2, GRID A100D-4C"));

        Assert.Null(sample.UtilizationPercent);
    }

    [Fact]
    public async Task Without_nvidia_smi_the_gpu_is_absent_not_zero()
    {
        var monitor = GpuMonitor.Detect(searchPath: _dir.FullName);

        Assert.False(monitor.Available);
        Assert.Null(await monitor.SampleAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Runs_nvidia_smi_with_the_query_and_parses_its_answer()
    {
        var argsFile = Path.Combine(_dir.FullName, "args");
        WriteScript($"""
            #!/bin/sh
            echo "$@" > '{argsFile}'
            printf '91, 70000, 143771, NVIDIA H200\n'
            """);
        var monitor = GpuMonitor.Detect(searchPath: _dir.FullName);

        var sample = await monitor.SampleAsync(CancellationToken.None);

        Assert.Equal(GpuMonitor.Arguments, File.ReadAllText(argsFile).Trim());
        Assert.NotNull(sample);
        Assert.Equal([new GpuDevice("NVIDIA H200", 91, 70000, 143771)], sample.Devices);
    }

    [Fact]
    public async Task A_failing_nvidia_smi_is_absent()
    {
        WriteScript("""
            #!/bin/sh
            echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2
            exit 9
            """);

        var sample = await GpuMonitor.Detect(searchPath: _dir.FullName).SampleAsync(CancellationToken.None);

        Assert.Null(sample);
    }

    private void WriteScript(string text)
    {
        var path = Path.Combine(_dir.FullName, "nvidia-smi");
        File.WriteAllText(path, text.ReplaceLineEndings("\n") + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
