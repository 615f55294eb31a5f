using System.Runtime.Versioning;
using Aitbc.Client.Miner;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Gpu;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

// The fake nvidia-smi is a shell script.
[UnsupportedOSPlatform("windows")]
public sealed class GpuReportingTests
{
    [Fact]
    public async Task With_a_gpu_the_registration_heartbeats_and_job_metrics_carry_it()
    {
        var dir = TempDir.Create("miner-gpu");
        try
        {
            Directory.CreateDirectory(dir);
            var smi = Path.Combine(dir, "nvidia-smi");
            await File.WriteAllTextAsync(smi, "#!/bin/sh\necho '37, 20480, 81559, NVIDIA H100 80GB HBM3'\n");
            File.SetUnixFileMode(smi, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            await using var coordinator = await FakeCoordinator.StartNewAsync();
            var options = TestMiner.Options(coordinator.Url, dir, new InstantBackend { Delay = TimeSpan.FromMilliseconds(300) }) with
            {
                Gpu = new GpuMonitor(smi),
                GpuSampleInterval = TimeSpan.FromMilliseconds(50),
            };
            await using var miner = await TestMiner.StartAsync(options);
            using var client = MinerClient.Create();

            Assert.True((await client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-gpu"))).Accepted);
            await Poll.UntilAsync(() => Task.FromResult(coordinator.CallsOf("complete").Any() && coordinator.CallsOf("heartbeat").Any()));

            Assert.Equal(new GpuDescription("NVIDIA H100 80GB HBM3", 81559, 1), coordinator.CallsOf("register").Single().Read<MinerRegistration>().Gpu);
            Assert.Equal(37, coordinator.CallsOf("heartbeat").First().Read<MinerHeartbeat>().GpuUtilization);
            Assert.Equal(37, coordinator.CallsOf("complete").Single().Read<JobCompletion>().Metrics.GpuUtilization);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }
}
