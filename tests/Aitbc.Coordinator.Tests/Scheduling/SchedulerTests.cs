using System.Net;
using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Coordinator.Tests.Scheduling;

/// <summary>Run on SQLite (<see cref="SchedulerTestsOnSqlite"/>) and on PostgreSQL (<see cref="SchedulerTestsOnPostgres"/>).</summary>
public abstract class SchedulerTests(CoordinatorFixture fixture)
{
    [Fact]
    public void The_score_follows_the_documented_formula()
    {
        // docs/coordinator.md: A stakes 100 AITBC, reputation 0.5, 2 AITBC/s; B stakes 10, reputation 0.9, 1 AITBC/s.
        var a = MinerRanking.Score(Amount.FromAitbc(100), 0.5, 2_000_000);
        var b = MinerRanking.Score(Amount.FromAitbc(10), 0.9, 1_000_000);
        Assert.Equal((1 + Math.Log(101)) * 1.0 / 2, a, 9);
        Assert.Equal((1 + Math.Log(11)) * 1.4 / 1, b, 9);
        Assert.True(b > a);

        MinerRecord Miner(string address, double reputation, ulong price) =>
            new(address, "", "", "http://x/", ["m"], 1, 0, price, null, null, 0, 0, reputation, 0, 0, 0);
        var ranked = MinerRanking.Rank([(Miner("b", 0.5, 1_000_000), Amount.FromAitbc(5)), (Miner("a", 0.5, 1_000_000), Amount.FromAitbc(5)),
            (Miner("c", 0.5, 500_000), Amount.FromAitbc(5))]);
        // Cheaper first; equal scores by address.
        Assert.Equal(["c", "a", "b"], ranked.Select(m => m.Address));
    }

    [Fact]
    public async Task The_scheduler_picks_the_miner_with_the_best_score()
    {
        using var client = await fixture.ClientAsync(26);
        await using var dear = await FakeMiner.StartAsync(fixture, 27, "choice-model", price: "2", mode: MinerMode.Hold);
        await using var cheap = await FakeMiner.StartAsync(fixture, 28, "choice-model", price: "1", mode: MinerMode.Hold);

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "choice-model"));

        Assert.Equal(jobId, (await cheap.NextAssignmentAsync()).JobId);
        Assert.Equal(0, dear.AssignmentsSeen);
        Assert.Equal(0, cheap.WrongKeyAttempts);
        var job = await client.GetJobAsync(jobId);
        Assert.Equal("assigned", job.GetProperty("status").GetString());
        Assert.Equal(cheap.Address.Value, job.GetProperty("miner").GetString());
    }

    [Fact]
    public async Task A_refusal_moves_the_job_to_the_next_miner()
    {
        using var client = await fixture.ClientAsync(29);
        await using var busy = await FakeMiner.StartAsync(fixture, 30, "refusal-model", price: "0.5", mode: MinerMode.Refuse503);
        await using var willing = await FakeMiner.StartAsync(fixture, 31, "refusal-model", price: "1");

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "refusal-model"));
        var job = await client.GetJobAsync(jobId, "?wait=10");

        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(willing.Address.Value, job.GetProperty("miner").GetString());
        Assert.Equal(1, busy.AssignmentsSeen);
    }

    [Fact]
    public async Task A_job_no_miner_takes_fails_after_the_queue_timeout_and_is_refunded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, QueueTimeout = TimeSpan.FromSeconds(60) });
        using var client = await fixture.ClientAsync(32, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        var before = await fixture.BalanceAsync(client.Address);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "nobody-serves-this"));
        await fixture.EscrowAsync(jobId);

        time.Advance(TimeSpan.FromSeconds(59));
        await Task.Delay(100);
        Assert.Equal("pending", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());

        await FailedAsync(client, jobId, time);
        Assert.Equal("no miner available", (await client.GetJobAsync(jobId)).GetProperty("error").GetString());
        await RefundedAsync(jobId, time);
        Assert.Equal(before, await fixture.BalanceAsync(client.Address));
    }

    [Fact]
    public async Task A_deadline_too_short_for_the_jobs_size_is_refunded_and_costs_the_miner_nothing()
    {
        // Reputation griefing: a client sets a 2 s deadline for 4,096 tokens on a rival's model. The job fails and is
        // refunded (the client pays nothing), and the miner, which never had fair time (5 s + 4,096 / 10 tokens/s), keeps its reputation.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromMinutes(5) });
        using var client = await fixture.ClientAsync(77, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        await using var miner = await FakeMiner.StartAsync(fixture, 78, "grief-model", mode: MinerMode.Hold, coordinator: coordinator);
        var before = await fixture.BalanceAsync(client.Address);
        var body = JsonSerializer.Serialize(new
        {
            payload = new { type = "inference", prompt = "long", model = "grief-model", options = new { num_predict = 4096 }, max_price = "1" },
            ttl_seconds = 2,
        });

        var jobId = await client.SubmitOkAsync(body);
        await miner.NextAssignmentAsync();
        Assert.Equal(HttpStatusCode.OK, (await miner.StatusAsync(jobId)).StatusCode);
        await FailedAsync(client, jobId, time);
        Assert.Equal("deadline exceeded", (await client.GetJobAsync(jobId)).GetProperty("error").GetString());
        await RefundedAsync(jobId, time);

        Assert.Equal(before, await fixture.BalanceAsync(client.Address));
        var record = await coordinator.Store.GetMinerAsync(miner.Address.Value, default);
        Assert.Equal((0, 0, 0.5), (record!.JobsTimedOut, record.JobsFailed, record.Reputation));
    }

    [Fact]
    public async Task A_job_past_its_deadline_fails_is_refunded_and_costs_the_miner_reputation()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromMinutes(5) });
        using var client = await fixture.ClientAsync(33, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        await using var miner = await FakeMiner.StartAsync(fixture, 34, "slow-model", mode: MinerMode.Hold, coordinator: coordinator);
        var body = JsonSerializer.Serialize(new { payload = new { type = "inference", prompt = "slow", model = "slow-model", max_price = "1" }, ttl_seconds = 30 });

        var jobId = await client.SubmitOkAsync(body);
        await miner.NextAssignmentAsync();
        Assert.Equal(HttpStatusCode.OK, (await miner.StatusAsync(jobId)).StatusCode);
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(100);
        Assert.Equal("running", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());
        await FailedAsync(client, jobId, time);

        Assert.Equal("deadline exceeded", (await client.GetJobAsync(jobId)).GetProperty("error").GetString());
        await RefundedAsync(jobId, time);
        var record = await coordinator.Store.GetMinerAsync(miner.Address.Value, default);
        Assert.Equal(1, record!.JobsTimedOut);
        Assert.True(record.Reputation < 0.5);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.CompleteAsync(miner.Completion(new(jobId, new("inference", "slow", "slow-model"), "1", "")))).StatusCode);
    }

    [Fact]
    public async Task A_restarted_coordinator_gives_miners_their_heartbeats_before_failing_their_jobs_as_offline()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var dataDir = TempDir.Create("restart-offline");
        try
        {
            string jobId;
            var first = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromSeconds(5) }, dataDir);
            await using (first)
            {
                using var client = await fixture.ClientAsync(61, coordinator: first, coordinatorKey: fixture.OwnKey);
                await using var miner = await FakeMiner.StartAsync(fixture, 63, "held-over-restart", mode: MinerMode.Hold, coordinator: first);
                jobId = await client.SubmitOkAsync(Bodies.Flat(model: "held-over-restart"));
                await miner.NextAssignmentAsync();
            }

            // The coordinator was down for a minute: no heartbeat could reach it, which says nothing about the miner.
            time.Advance(TimeSpan.FromMinutes(1));
            await using var second = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromSeconds(5) }, dataDir);
            for (var i = 0; i < 10; i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(50);
            }
            Assert.Equal(JobStatus.Assigned, (await second.Store.GetJobAsync(jobId, default))!.Status);

            // Silent for 3 heartbeats after the restart as well: now it is offline.
            await Poll.UntilAsync(async () =>
            {
                time.Advance(TimeSpan.FromSeconds(1));
                return (await second.Store.GetJobAsync(jobId, default))!.Status == JobStatus.Failed;
            });
            Assert.Equal("the miner went offline", (await second.Store.GetJobAsync(jobId, default))!.Error);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task A_job_whose_miner_goes_silent_fails_and_is_refunded()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromSeconds(5) });
        using var client = await fixture.ClientAsync(35, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        await using var miner = await FakeMiner.StartAsync(fixture, 36, "silent-model", mode: MinerMode.Hold, coordinator: coordinator);

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "silent-model"));
        await miner.NextAssignmentAsync();
        // Heard from 14 s ago: still online (the limit is 3 × 5 s).
        time.Advance(TimeSpan.FromSeconds(14));
        await Task.Delay(100);
        Assert.Equal("assigned", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());
        Assert.True((await miner.HeartbeatAsync("silent-model")).Registered);

        await FailedAsync(client, jobId, time);

        Assert.Equal("the miner went offline", (await client.GetJobAsync(jobId)).GetProperty("error").GetString());
        await RefundedAsync(jobId, time);
        using var stats = await client.Http.GetAsync("v1/market/stats");
        using var parsed = JsonDocument.Parse(await stats.Content.ReadAsStringAsync());
        Assert.Equal(0, parsed.RootElement.GetProperty("miners_online").GetInt32());
        Assert.Equal(1, parsed.RootElement.GetProperty("miners_total").GetInt32());
    }

    [Fact]
    public async Task An_unreachable_miner_is_passed_over_for_the_next()
    {
        using var client = await fixture.ClientAsync(52);
        await using var unreachable = await FakeMiner.StartAsync(fixture, 53, "unreachable-model", price: "0.5");
        await unreachable.RegisterAsync("unreachable-model", "0.5", endpoint: "http://127.0.0.1:1/");
        await using var willing = await FakeMiner.StartAsync(fixture, 54, "unreachable-model", price: "1");

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "unreachable-model"));
        var job = await client.GetJobAsync(jobId, "?wait=10");

        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(willing.Address.Value, job.GetProperty("miner").GetString());
    }

    [Fact]
    public async Task A_miner_without_stake_on_chain_gets_no_jobs()
    {
        using var client = await fixture.ClientAsync(55);
        await using var unstaked = await FakeMiner.StartAsync(fixture, 56, "stake-model", price: "0.1", stake: "0", mode: MinerMode.Hold);
        await using var staked = await FakeMiner.StartAsync(fixture, 57, "stake-model", price: "1", mode: MinerMode.Hold);

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "stake-model"));

        Assert.Equal(jobId, (await staked.NextAssignmentAsync()).JobId);
        Assert.Equal(0, unstaked.AssignmentsSeen);
    }

    [Fact]
    public async Task A_full_miner_gets_its_next_job_when_one_ends()
    {
        using var client = await fixture.ClientAsync(58);
        await using var miner = await FakeMiner.StartAsync(fixture, 59, "capacity-model", capacity: 1, mode: MinerMode.Hold);

        var first = await client.SubmitOkAsync(Bodies.Flat(model: "capacity-model", prompt: "first"));
        Assert.Equal(first, (await miner.NextAssignmentAsync()).JobId);
        var second = await client.SubmitOkAsync(Bodies.Flat(model: "capacity-model", prompt: "second"));
        await Task.Delay(300);
        Assert.Equal("pending", (await client.GetJobAsync(second)).GetProperty("status").GetString());
        Assert.Equal(1, miner.AssignmentsSeen);

        Assert.Equal(HttpStatusCode.OK, (await miner.FailAsync(first)).StatusCode);

        Assert.Equal(second, (await miner.NextAssignmentAsync()).JobId);
        var record = await fixture.Coordinator.Store.GetMinerAsync(miner.Address.Value, default);
        Assert.Equal(1, record!.JobsFailed);
        Assert.Equal(0.4, record.Reputation, 9);
    }

    /// <summary>Moves the fake clock a second at a time until the job reads as failed.</summary>
    private static Task FailedAsync(TestClient client, string jobId, FakeTimeProvider time) =>
        Poll.UntilAsync(async () =>
        {
            time.Advance(TimeSpan.FromSeconds(1));
            return (await client.GetJobAsync(jobId)).GetProperty("status").GetString() == "failed";
        });

    /// <summary>The refund goes out on the same fake clock: keeps it moving while waiting for the refund's block.</summary>
    private Task RefundedAsync(string jobId, FakeTimeProvider time) =>
        Poll.UntilAsync(async () =>
        {
            time.Advance(TimeSpan.FromMilliseconds(100));
            return (await fixture.Chain.GetEscrowAsync(jobId))?.Status == EscrowStatus.Refunded;
        });
}

[Collection(CoordinatorCollection.Name)]
public sealed class SchedulerTestsOnSqlite(CoordinatorFixture fixture) : SchedulerTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class SchedulerTestsOnPostgres(PostgresCoordinatorFixture fixture) : SchedulerTests(fixture);
