using System.Text.Json;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Coordinator.Tests.Miners;

/// <summary>
/// <see cref="MinerJobService"/> called directly, without HTTP: each job is submitted and assigned to a held fake miner
/// through a coordinator as usual, then the miner's reports go straight to that coordinator's service.
/// </summary>
[Collection(CoordinatorCollection.Name)]
public sealed class MinerJobServiceTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Completion_bills_the_lesser_of_reported_and_observed_time_within_the_budget()
    {
        // A coordinator on a fake clock: the time it sees a job assigned is exactly what the test advances.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { Time = time, HeartbeatInterval = TimeSpan.FromMinutes(5) });
        using var client = await fixture.ClientAsync(65, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        await using var miner = await FakeMiner.StartAsync(fixture, 66, "billed-model", price: "0.5", mode: MinerMode.Hold, coordinator: coordinator);
        var service = coordinator.App.Services.GetRequiredService<MinerJobService>();
        var overReported = await client.SubmitOkAsync(Bodies.Flat(prompt: "over", model: "billed-model", maxPrice: "10"));
        var underReported = await client.SubmitOkAsync(Bodies.Flat(prompt: "under", model: "billed-model", maxPrice: "10"));
        var overBudget = await client.SubmitOkAsync(Bodies.Flat(prompt: "budget", model: "billed-model", maxPrice: "1"));
        var assignments = new Dictionary<string, JobAssignment>();
        for (var i = 0; i < 3; i++)
        {
            var assignment = await miner.NextAssignmentAsync();
            assignments[assignment.JobId] = assignment;
        }

        time.Advance(TimeSpan.FromSeconds(4));
        async Task<MinerJobOutcome.Done> CompleteAsync(string jobId, double computeTime)
        {
            miner.ComputeTime = computeTime;
            return Assert.IsType<MinerJobOutcome.Done>(await service.CompleteAsync(miner.Key.PublicKey, jobId, miner.Completion(assignments[jobId]), default));
        }

        // 0.5 AITBC a second: 4 s seen, not the 100 s claimed; 1.5 s claimed of the 4 s seen; 4 s seen, cut to the 1 AITBC budget.
        Assert.Equal(2_000_000UL, (await CompleteAsync(overReported, 100)).Job.CostMicro);
        Assert.Equal(750_000UL, (await CompleteAsync(underReported, 1.5)).Job.CostMicro);
        var capped = await CompleteAsync(overBudget, 100);
        Assert.Equal(1_000_000UL, capped.Job.CostMicro);

        Assert.Equal(JobStatus.Completed, capped.Job.Status);
        Assert.Equal((await coordinator.Store.GetJobAsync(overBudget, default))!.CostMicro, capped.Job.CostMicro);
        var stored = await coordinator.Store.GetReceiptByJobAsync(overBudget, default);
        var receipt = JsonSerializer.Deserialize<Receipt>(stored!.ReceiptJson, RestJson.Options)!;
        Assert.Equal(capped.Job.ReceiptId, receipt.ReceiptId);
        Assert.Equal("1", receipt.AmountPaid);
        Assert.Equal("0.5", receipt.PricePerSecond);
        Assert.True(receipt.Verify(miner.Key.PublicKey, fixture.OwnKey.PublicKey).Valid);
    }

    [Fact]
    public async Task Reports_on_another_miners_job_read_as_missing_and_bad_reports_leave_the_job_as_it_was()
    {
        using var client = await fixture.ClientAsync(67);
        await using var miner = await FakeMiner.StartAsync(fixture, 68, "reported-model", mode: MinerMode.Hold);
        var service = fixture.Coordinator.App.Services.GetRequiredService<MinerJobService>();
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "reported-model"));
        var assignment = await miner.NextAssignmentAsync();
        using var stranger = Ed25519KeyPair.Generate();

        Assert.IsType<MinerJobOutcome.Missing>(await service.StartAsync(stranger.PublicKey, jobId, new JobStatusUpdate(JobStatus.Running, "2026-01-01T00:00:00Z"), default));
        Assert.IsType<MinerJobOutcome.Missing>(await service.CompleteAsync(stranger.PublicKey, jobId, miner.Completion(assignment, signer: stranger), default));
        Assert.IsType<MinerJobOutcome.Missing>(await service.FailAsync(stranger.PublicKey, jobId, new JobFailure("not mine"), default));
        Assert.IsType<MinerJobOutcome.Missing>(await service.FailAsync(miner.Key.PublicKey, "job_00000000000000000000000000000000", new JobFailure("no such job"), default));

        AssertInvalid("proof.signature", await service.CompleteAsync(miner.Key.PublicKey, jobId, miner.Completion(assignment, signer: stranger), default));
        AssertInvalid("proof.hash", await service.CompleteAsync(miner.Key.PublicKey, jobId, miner.Completion(assignment, hashOverride: new string('0', 64)), default));
        AssertInvalid("job_id", await service.CompleteAsync(miner.Key.PublicKey, jobId, miner.Completion(assignment) with { JobId = "job_other" }, default));
        Assert.IsType<MinerJobOutcome.Malformed>(await service.CompleteAsync(miner.Key.PublicKey, jobId, null, default));
        AssertInvalid("status", await service.StartAsync(miner.Key.PublicKey, jobId, new JobStatusUpdate(JobStatus.Completed, "2026-01-01T00:00:00Z"), default));
        AssertInvalid("started_at", await service.StartAsync(miner.Key.PublicKey, jobId, new JobStatusUpdate(JobStatus.Running, "soon"), default));
        AssertInvalid("error", await service.FailAsync(miner.Key.PublicKey, jobId, new JobFailure(""), default));

        var job = await fixture.Coordinator.Store.GetJobAsync(jobId, default);
        Assert.Equal(JobStatus.Assigned, job!.Status);
        Assert.Null(await fixture.Coordinator.Store.GetReceiptByJobAsync(jobId, default));
    }

    [Fact]
    public async Task A_completion_sent_again_is_done_another_is_a_conflict_and_a_failure_is_refunded()
    {
        using var client = await fixture.ClientAsync(69);
        await using var miner = await FakeMiner.StartAsync(fixture, 70, "repeated-model", mode: MinerMode.Hold);
        var service = fixture.Coordinator.App.Services.GetRequiredService<MinerJobService>();
        var completedId = await client.SubmitOkAsync(Bodies.Flat(prompt: "complete me", model: "repeated-model"));
        var completedAssignment = await miner.NextAssignmentAsync();
        var failedId = await client.SubmitOkAsync(Bodies.Flat(prompt: "fail me", model: "repeated-model"));
        await miner.NextAssignmentAsync();

        var started = Assert.IsType<MinerJobOutcome.Done>(await service.StartAsync(miner.Key.PublicKey, completedId, new JobStatusUpdate(JobStatus.Running, "2026-01-01T00:00:00Z"), default));
        Assert.Equal(JobStatus.Running, started.Job.Status);
        var completion = miner.Completion(completedAssignment);
        var first = Assert.IsType<MinerJobOutcome.Done>(await service.CompleteAsync(miner.Key.PublicKey, completedId, completion, default));
        var again = Assert.IsType<MinerJobOutcome.Done>(await service.CompleteAsync(miner.Key.PublicKey, completedId, completion, default));
        Assert.Equal(first.Job.ReceiptId, again.Job.ReceiptId);
        Assert.Equal(first.Job.CostMicro, again.Job.CostMicro);
        Assert.IsType<MinerJobOutcome.Conflict>(await service.CompleteAsync(miner.Key.PublicKey, completedId, miner.Completion(completedAssignment, result: "another"), default));
        Assert.IsType<MinerJobOutcome.Conflict>(await service.FailAsync(miner.Key.PublicKey, completedId, new JobFailure("too late"), default));

        var failed = Assert.IsType<MinerJobOutcome.Done>(await service.FailAsync(miner.Key.PublicKey, failedId, new JobFailure("out of memory"), default));
        Assert.Equal(JobStatus.Failed, failed.Job.Status);
        Assert.Equal("miner failed: out of memory", failed.Job.Error);
        Assert.IsType<MinerJobOutcome.Conflict>(await service.StartAsync(miner.Key.PublicKey, failedId, new JobStatusUpdate(JobStatus.Running, "2026-01-01T00:00:00Z"), default));
        var escrow = await fixture.EscrowAsync(failedId, EscrowStatus.Refunded);
        Assert.Equal(escrow.Amount, escrow.Refunded);
    }

    private static void AssertInvalid(string field, MinerJobOutcome outcome) =>
        Assert.Contains(field, Assert.IsType<MinerJobOutcome.Invalid>(outcome).Errors.Keys);
}
