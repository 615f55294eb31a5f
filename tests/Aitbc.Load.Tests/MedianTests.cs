namespace Aitbc.Load.Tests;

public sealed class MedianTests
{
    private static JobLoadReport Run(double completedPerSecond, double cpuMs, int failed) =>
        new("end-to-end", 10, 2, 0, 1000, 1000 - failed, failed, 10, completedPerSecond, 5, 9, completedPerSecond, 50, 90, 3, 8, 2, 6, 0.4, 20, 125, 4.5, 49.6, 70, 2.0, "")
        {
            CpuMsPerJob = cpuMs,
            JitMsInRun = cpuMs * 10,
        };

    [Fact]
    public void Every_figure_is_the_median_of_the_runs_and_failures_are_summed()
    {
        var median = ScaleCommands.MedianOf([Run(100, 4.0, 0), Run(300, 2.0, 1), Run(200, 9.0, 2)]);

        Assert.Equal(200, median.CompletedPerSecond);
        Assert.Equal(4.0, median.CpuMsPerJob);
        Assert.Equal(40, median.JitMsInRun);
        Assert.Equal(3, median.Failed);
    }
}
