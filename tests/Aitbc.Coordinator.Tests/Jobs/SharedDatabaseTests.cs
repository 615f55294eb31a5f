using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>Two coordinator processes' worth of hosts sharing one PostgreSQL database.</summary>
[Collection(PostgresCoordinatorCollection.Name)]
public sealed class SharedDatabaseTests(PostgresCoordinatorFixture fixture)
{
    [Fact]
    public async Task Concurrent_retries_across_two_coordinators_with_one_idempotency_key_make_one_job()
    {
        // A second host on the shared coordinator's database and key, sending nothing on its own (no outbox worker, no scheduler).
        var dataDir = TempDir.Create("second-coordinator");
        try
        {
            var options = await fixture.OptionsForAsync(fixture.Node.Coordinators[0], dataDir, sendSettlements: false) with
            {
                Database = await fixture.DatabaseForAsync(fixture.Coordinator.Options.DataDirectory),
                RunScheduler = false,
            };
            await using var second = await RunningCoordinator.StartAsync(options);
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
}
