using System.Runtime.Versioning;
using Aitbc.Miner.Gpu;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Miner.Tests.Gpu;

// The fake nvidia-smi is a shell script.
[UnsupportedOSPlatform("windows")]
public sealed class GpuJobSamplerTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("aitbc-miner-sampler-");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Averages_utilization_and_keeps_peak_memory_over_the_job()
    {
        // Each run answers the next line: the GPU gets busier as the job goes on.
        var count = Path.Combine(_dir.FullName, "count");
        var path = Path.Combine(_dir.FullName, "nvidia-smi");
        File.WriteAllText(path, $"""
            #!/bin/sh
            n=$(cat '{count}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '{count}'
            if [ $n = 1 ]; then echo '40, 1000, 80000, GPU'; else echo '80, 3000, 80000, GPU'; fi

            """);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        await using var sampler = GpuJobSampler.Start(new GpuMonitor(path), Interval, _time,
            n => (n == 1 ? first : second).TrySetResult());
        await first.Task.WaitAsync(Guard);
        _time.Advance(Interval);
        await second.Task.WaitAsync(Guard);
        var usage = await sampler.StopAsync();

        Assert.Equal(new GpuUsage(60, 3000, 2), usage);
    }

    [Fact]
    public async Task Without_a_gpu_the_usage_is_absent()
    {
        await using var sampler = GpuJobSampler.Start(new GpuMonitor(null), Interval, _time);

        Assert.Null(await sampler.StopAsync());
    }

    public void Dispose() => _dir.Delete(recursive: true);
}
