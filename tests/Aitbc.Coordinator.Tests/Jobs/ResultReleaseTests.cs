using System.Net;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>
/// Escrow before work: a job runs once its escrow is admitted to the mempool, but its result reaches the client only once
/// the coordinator has seen the escrow in a block. Until then the escrow may still fail (the client spends or revokes its
/// allowance first) and nobody would pay for the result.
/// </summary>
public abstract class ResultReleaseTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_completed_jobs_result_is_withheld_until_its_escrow_is_seen_in_a_block()
    {
        var dataDir = TempDir.Create("release");
        await using var proxy = await SwitchableNodeProxy.StartAsync(fixture.Node.Url);
        try
        {
            await using var coordinator = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(fixture.OwnKey, dataDir) with { NodeUrl = proxy.Url });
            using var client = await fixture.ClientAsync(74, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
            await using var miner = await FakeMiner.StartAsync(fixture, 75, "release-model", mode: MinerMode.Hold, coordinator: coordinator);
            // A first job teaches the writer the chain id and its nonce, so that it can sign and broadcast while blind.
            var warmUp = await client.SubmitOkAsync(Bodies.Flat(prompt: "warm-up", model: "release-model", maxPrice: "1"));
            var warmUpAssignment = await miner.NextAssignmentAsync();
            Assert.Equal(HttpStatusCode.OK, (await miner.CompleteAsync(miner.Completion(warmUpAssignment))).StatusCode);
            Assert.Equal("completed", (await client.GetJobAsync(warmUp, "?wait=10")).GetProperty("status").GetString());

            // The coordinator can still broadcast, but no longer sees blocks: the escrow is admitted and never seen in one.
            proxy.Blind = true;
            var jobId = await client.SubmitOkAsync(Bodies.Flat(prompt: "withheld", model: "release-model", maxPrice: "1"));
            var assignment = await miner.NextAssignmentAsync();
            Assert.Equal(HttpStatusCode.OK, (await miner.CompleteAsync(miner.Completion(assignment, result: "the answer"))).StatusCode);
            Assert.Equal(Contracts.Coordinator.JobStatus.Completed, (await coordinator.Store.GetJobAsync(jobId, default))!.Status);
            var withheld = await client.GetJobAsync(jobId);
            Assert.Equal("running", withheld.GetProperty("status").GetString());
            Assert.False(withheld.TryGetProperty("result", out var leaked) && leaked.ValueKind != System.Text.Json.JsonValueKind.Null, "the result leaked");
            Assert.False(withheld.TryGetProperty("receipt_id", out var receipt) && receipt.ValueKind != System.Text.Json.JsonValueKind.Null, "the receipt leaked");

            // A client waiting on the job hears once the escrow is seen in its block.
            var waiting = client.GetJobAsync(jobId, "?wait=10");
            proxy.Blind = false;
            var released = await waiting;
            Assert.Equal("completed", released.GetProperty("status").GetString());
            Assert.Equal("the answer", released.GetProperty("result").GetString());
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class ResultReleaseTestsOnSqlite(CoordinatorFixture fixture) : ResultReleaseTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class ResultReleaseTestsOnPostgres(PostgresCoordinatorFixture fixture) : ResultReleaseTests(fixture);
