using System.Diagnostics;
using System.Net;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>Two coordinator processes' worth of hosts sharing one PostgreSQL database and one coordinator key (a coordinator cluster).</summary>
[Collection(PostgresCoordinatorCollection.Name)]
public sealed class SharedDatabaseTests(PostgresCoordinatorFixture fixture)
{
    [Fact]
    public async Task Concurrent_retries_across_two_coordinators_with_one_idempotency_key_make_one_job()
    {
        var dataDir = TempDir.Create("second-coordinator");
        try
        {
            await using var second = await SecondCoordinatorAsync(dataDir);
            using var client = await fixture.ClientAsync(60);
            using var viaSecond = second.Http(client.ApiKey);
            var secondClient = client with { Http = viaSecond };

            for (var round = 0; round < 4; round++)
            {
                var key = $"shared-{round}";
                var ids = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => (i % 2 == 0 ? client : secondClient).SubmitOkAsync(Bodies.Flat(maxPrice: "1"), key)));
                Assert.Single(ids.Distinct());
                await fixture.EscrowAsync(ids[0]);
            }
            var jobs = await fixture.Coordinator.Store.ListJobsAsync(client.Address.Value, null, 100, default);
            Assert.Equal(4, jobs.Count);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task A_long_poll_on_one_coordinator_wakes_when_another_cancels_the_job()
    {
        var dataDir = TempDir.Create("second-coordinator-poll");
        try
        {
            await using var second = await SecondCoordinatorAsync(dataDir);
            using var client = await fixture.ClientAsync(66);
            using var viaSecond = second.Http(client.ApiKey);
            var secondClient = client with { Http = viaSecond };
            // Submitted through the second process: its escrow is decided by the writer in the first and answered over NOTIFY.
            var jobId = await secondClient.SubmitOkAsync(Bodies.Flat(maxPrice: "1"));

            var watch = Stopwatch.StartNew();
            var poll = secondClient.GetJobAsync(jobId, "?wait=10");
            await Task.Delay(300);
            Assert.False(poll.IsCompleted);
            using var cancel = await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null);
            Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

            // Woken by the first process's change, not by the end of its wait.
            var job = await poll;
            Assert.Equal("cancelled", job.GetProperty("status").GetString());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"long poll took {watch.Elapsed}");
            await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    /// <summary>
    /// A second coordinator process's worth of host on the shared coordinator's database and key, with no scheduler of
    /// its own: the fixture's coordinator holds the chain writer role, so this one only stores rows and serves requests.
    /// </summary>
    private async Task<RunningCoordinator> SecondCoordinatorAsync(string dataDir) =>
        await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(fixture.Node.Coordinators[0], dataDir) with
        {
            Database = await fixture.DatabaseForAsync(fixture.Coordinator.Options.DataDirectory),
            RunScheduler = false,
        });
}
