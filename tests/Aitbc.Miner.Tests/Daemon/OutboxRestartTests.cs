using Aitbc.Client.Miner;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class OutboxRestartTests
{
    [Fact]
    public async Task A_result_finished_while_the_coordinator_is_down_survives_a_miner_restart_and_arrives_exactly_once_without_its_running_report()
    {
        var dir = TempDir.Create("miner-outbox");
        try
        {
            await using var coordinator = await FakeCoordinator.StartNewAsync();
            using var client = MinerClient.Create();
            var options = TestMiner.Options(coordinator.Url, dir);
            await using (var miner = await TestMiner.StartAsync(options))
            {
                await coordinator.StopAsync();
                var accepted = await client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-kept", prompt: "keep me"));
                Assert.True(accepted.Accepted, accepted.Reason);
                var store = (Outbox.OutboxStore)miner.App.Services.GetService(typeof(Outbox.OutboxStore))!;
                // The complete replaced the running report that could not be delivered: it alone waits in the outbox.
                await Poll.UntilAsync(() => Task.FromResult(store.Pending() is [{ Kind: Outbox.OutboxKind.Complete, JobId: "job-kept" }]));
                await miner.StopAsync();
            }

            await using (var restarted = await TestMiner.StartAsync(options, waitForRegistration: false))
            {
                await coordinator.StartAsync();

                await Poll.UntilAsync(() => Task.FromResult(coordinator.CallsOf("complete").Any()), 15_000);
                await Poll.UntilAsync(() => Task.FromResult(restarted.Registered), 15_000);
                var store = (Outbox.OutboxStore)restarted.App.Services.GetService(typeof(Outbox.OutboxStore))!;
                await Poll.UntilAsync(() => Task.FromResult(store.Count() == 0));
            }

            var completion = Assert.Single(coordinator.CallsOf("complete")).Read<JobCompletion>();
            Assert.Equal("echo: keep me", completion.Result);
            Assert.Empty(coordinator.CallsOf("status"));
            Assert.Equal(["complete"], coordinator.Calls.Where(c => c.JobId == "job-kept").Select(c => c.Kind));
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }
}
