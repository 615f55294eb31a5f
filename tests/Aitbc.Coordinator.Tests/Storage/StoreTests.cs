using System.Data.Common;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Tests.Storage;

/// <summary>
/// The store's contract, run on SQLite (<see cref="SqliteStoreTests"/>) and on PostgreSQL (<see cref="PostgresStoreTests"/>):
/// every test gets a fresh database; tests that play two coordinators open two stores on it.
/// </summary>
public abstract class StoreTests : IAsyncLifetime
{
    private readonly List<CoordinatorStore> _stores = [];
    private Func<CoordinatorStore> _open = null!;

    /// <summary>A fresh empty database, and how to open a store on it.</summary>
    protected abstract Task<Func<CoordinatorStore>> NewDatabaseAsync();

    public async Task InitializeAsync() => _open = await NewDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>Holds the database so that a write to the jobs table waits until the result is disposed.</summary>
    protected abstract Task<IAsyncDisposable> HoldJobWritesAsync();

    /// <summary>Another store on this test's database, migrated: another coordinator sharing it.</summary>
    protected async Task<CoordinatorStore> StoreAsync()
    {
        var store = _open();
        _stores.Add(store);
        await store.MigrateAsync(default);
        return store;
    }

    private const string Key = "key_client";

    protected static JobRecord Job(string id, long at, string? idempotencyKey = null, string status = JobStatus.Pending) =>
        new(id, "aitbc1client", Key, status, "model-a", "prompt " + id, "{\"seed\":1}", 2_000_000, "hash-" + id, idempotencyKey, idempotencyKey is null ? null : "req-" + id,
            at, null, null, at + 60_000, null, null, null, null);

    protected static OutboxRecord Row(string jobId, string kind, long at) =>
        new(0, jobId, kind, "{\"job_id\":\"" + jobId + "\"}", OutboxStatus.Pending, 0, null, null, null, null, at, at, null);

    private static MinerRecord Miner(string address, ulong price = 1_000_000) =>
        new(address, "pub-" + address, "key_" + address, "http://127.0.0.1:1/", ["model-a", "model-b"], 4, 0, price, "{\"name\":\"gpu\"}", 0.25, 10, 10, 0.5, 0, 0, 0);

    protected static async Task<CoordinatorStore> SeededAsync(CoordinatorStore store)
    {
        await store.InsertApiKeyAsync(new ApiKeyRecord(Key, Roles.Client, "hash", "aitbc1client", null, 1), default);
        return store;
    }

    [Fact]
    public async Task The_deadline_sweep_finds_unfinished_jobs_past_their_deadline_oldest_deadline_first()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-1"), default);
        // Deadlines are submitted_at + 60 s: job_late_* are due by 70,000, job_due_later is not.
        foreach (var (id, at) in new[] { ("job_late_b", 5_000L), ("job_late_a", 3_000L), ("job_late_c", 9_000L), ("job_done", 1_000L), ("job_failed", 2_000L), ("job_due_later", 20_000L) })
        {
            await store.InsertJobAsync(Job(id, at), Row(id, OutboxKind.SubmitJob, at), default);
        }
        Assert.True(await store.AssignJobAsync("job_late_b", "miner-1", 7, 6_000, default));
        Assert.True(await store.AssignJobAsync("job_late_c", "miner-1", 7, 9_500, default));
        Assert.True(await store.StartJobAsync("job_late_c", "miner-1", 9_600, default));
        Assert.True(await store.AssignJobAsync("job_done", "miner-1", 7, 1_100, default));
        var done = (await store.GetJobAsync("job_done", default))! with { Result = "r", CostMicro = 1, CompletedAt = 1_200 };
        Assert.True(await store.CompleteJobAsync(done, new ReceiptRecord("rcpt_d", "job_done", "miner-1", "aitbc1client", "{}", "h", 1_200), Row("job_done", OutboxKind.RecordReceipt, 1_200), default));
        Assert.True(await store.FailJobAsync("job_failed", "refused", 2_100, default));

        Assert.Equal(["job_late_a", "job_late_b", "job_late_c"], (await store.JobsPastDeadlineAsync(70_000, default)).Select(j => j.Id));
        Assert.Equal(["job_late_a"], (await store.JobsPastDeadlineAsync(63_001, default)).Select(j => j.Id));
        Assert.Empty(await store.JobsPastDeadlineAsync(63_000, default));
    }

    [Fact]
    public async Task Migrating_again_changes_nothing_and_keys_round_trip()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.MigrateAsync(default);
        var again = await StoreAsync();
        await again.PingAsync(default);

        Assert.Equal(new ApiKeyRecord(Key, Roles.Client, "hash", "aitbc1client", null, 1), await again.GetApiKeyAsync(Key, default));
        await again.UpsertApiKeyAsync(new ApiKeyRecord("admin", Roles.Admin, "h1", null, null, 2), default);
        await again.UpsertApiKeyAsync(new ApiKeyRecord("admin", Roles.Admin, "h2", null, "pub", 3), default);
        // An upsert keeps the first creation time and takes the rest.
        Assert.Equal(new ApiKeyRecord("admin", Roles.Admin, "h2", null, "pub", 2), await store.GetApiKeyAsync("admin", default));
        Assert.Null(await store.GetApiKeyAsync("nobody", default));
        await Assert.ThrowsAnyAsync<DbException>(() => store.InsertApiKeyAsync(new ApiKeyRecord(Key, Roles.Client, "x", null, null, 1), default));
    }

    [Fact]
    public async Task A_revoked_key_keeps_its_row_and_its_jobs_but_matches_no_key_text()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.InsertJobAsync(Job("job_1", 1000), Row("job_1", OutboxKind.SubmitJob, 1000), default);

        Assert.True(await store.RevokeApiKeyAsync(Key, default));
        Assert.False(await store.RevokeApiKeyAsync("nobody", default));

        var revoked = await store.GetApiKeyAsync(Key, default);
        Assert.NotNull(revoked);
        Assert.Equal(Roles.Client, revoked.Role);
        Assert.False(Coordinator.Auth.ApiKeys.Matches("", revoked.KeyHash));
        Assert.False(Coordinator.Auth.ApiKeys.Matches("hash", revoked.KeyHash));
        Assert.NotNull(await store.GetJobAsync("job_1", default));
    }

    [Fact]
    public async Task Jobs_round_trip_are_found_by_idempotency_key_and_list_newest_first_by_cursor()
    {
        var store = await SeededAsync(await StoreAsync());
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await store.InsertJobAsync(Job($"job_{i}", 1000 + i, idempotencyKey: i == 2 ? "idem" : null), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default));
        }
        Assert.Equal(ids.Order(), ids);
        Assert.Equal(5, ids.Distinct().Count());

        Assert.Equal(Job("job_3", 1003), await store.GetJobAsync("job_3", default));
        Assert.Equal("job_2", (await store.FindJobByIdempotencyKeyAsync(Key, "idem", default))!.Id);
        Assert.Null(await store.FindJobByIdempotencyKeyAsync(Key, "other", default));
        // One Idempotency-Key makes one job, whatever the callers do.
        await Assert.ThrowsAnyAsync<DbException>(() => store.InsertJobAsync(Job("job_x", 2000, idempotencyKey: "idem"), Row("job_x", OutboxKind.SubmitJob, 2000), default));
        Assert.Null(await store.GetJobAsync("job_x", default));

        var page1 = await store.ListJobsAsync("aitbc1client", null, 2, default);
        Assert.Equal(["job_4", "job_3"], page1.Select(j => j.Id));
        var page2 = await store.ListJobsAsync("aitbc1client", new JobCursor(page1[^1].SubmittedAt, page1[^1].Id), 10, default);
        Assert.Equal(["job_2", "job_1", "job_0"], page2.Select(j => j.Id));
        // A job is offered to miners only once the chain admitted its escrow.
        Assert.Empty(await store.PendingJobsAsync(2, default));
        await store.MarkOutboxSentAsync([ids[1], ids[0], ids[3]], 1500, default);
        Assert.Equal(["job_0", "job_1"], (await store.PendingJobsAsync(2, default)).Select(j => j.Id));
        Assert.Equal(["job_0", "job_1", "job_3"], (await store.PendingJobsAsync(5, default)).Select(j => j.Id));

        var submit = Assert.Single(await store.OutboxForJobAsync("job_0", default));
        Assert.Equal((ids[0], OutboxKind.SubmitJob, OutboxStatus.Sent, 1), (submit.Id, submit.Kind, submit.Status, submit.Attempts));

        await store.DeleteJobAsync("job_0", default);
        Assert.Null(await store.GetJobAsync("job_0", default));
        Assert.Empty(await store.OutboxForJobAsync("job_0", default));
        Assert.Equal(4L, (await store.JobCountsByStatusAsync(default))[JobStatus.Pending]);
    }

    [Fact]
    public async Task Racing_cancels_and_assignments_from_two_coordinators_make_each_transition_once()
    {
        var one = await SeededAsync(await StoreAsync());
        var two = await StoreAsync();
        const int Jobs = 24;
        for (var i = 0; i < Jobs; i++)
        {
            var row = await one.InsertJobAsync(Job($"job_{i:D2}", 1000 + i), Row($"job_{i:D2}", OutboxKind.SubmitJob, 1000 + i), default);
            await one.MarkOutboxSentAsync(row, 1500, default);
        }

        // Both coordinators schedule the same queue at once, each assigning to its own miner.
        async Task<List<string>> ScheduleAsync(CoordinatorStore store, string miner)
        {
            var won = new List<string>();
            foreach (var job in await store.PendingJobsAsync(Jobs, default))
            {
                if (await store.AssignJobAsync(job.Id, miner, 5, 2000, default))
                {
                    won.Add(job.Id);
                }
            }
            return won;
        }
        var results = await Task.WhenAll(Task.Run(() => ScheduleAsync(one, "miner-1")), Task.Run(() => ScheduleAsync(two, "miner-2")));
        Assert.Equal(Jobs, results[0].Count + results[1].Count);
        Assert.Empty(results[0].Intersect(results[1]));
        foreach (var (won, miner) in new[] { (results[0], "miner-1"), (results[1], "miner-2") })
        {
            foreach (var id in won)
            {
                var job = (await one.GetJobAsync(id, default))!;
                Assert.Equal((JobStatus.Assigned, miner, 5UL), (job.Status, job.Miner, job.PricePerSecondMicro));
            }
        }

        // Each job is cancelled by both at once: one cancel wins and queues the one refund.
        var cancels = await Task.WhenAll(Enumerable.Range(0, Jobs).SelectMany(i => new[] { one, two }.Select(store =>
            Task.Run(() => store.CancelJobAsync($"job_{i:D2}", 3000, Row($"job_{i:D2}", OutboxKind.RefundJob, 3000), default)))));
        Assert.Equal(Jobs, cancels.Count(won => won));
        for (var i = 0; i < Jobs; i++)
        {
            Assert.Equal(JobStatus.Cancelled, (await two.GetJobAsync($"job_{i:D2}", default))!.Status);
            Assert.Single(await two.OutboxForJobAsync($"job_{i:D2}", default), r => r.Kind == OutboxKind.RefundJob);
        }
        Assert.False(await one.AssignJobAsync("job_00", "miner-1", 5, 4000, default));
        Assert.False(await one.FailJobAsync("job_00", "late", 4000, default));
    }

    [Fact]
    public async Task A_pass_claims_its_jobs_in_one_call_and_skips_those_no_longer_pending()
    {
        var store = await SeededAsync(await StoreAsync());
        for (var i = 0; i < 4; i++)
        {
            await store.InsertJobAsync(Job($"job_{i}", 1000 + i), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default);
        }
        // Between the pass reading the queue and claiming: one job is cancelled, another coordinator takes one.
        Assert.True(await store.CancelJobAsync("job_1", 1050, Row("job_1", OutboxKind.RefundJob, 1050), default));
        Assert.True(await store.AssignJobAsync("job_2", "miner-x", 9, 1060, default));

        var claimed = await store.AssignJobsAsync(
            [new JobClaim("job_0", "miner-1", 5), new JobClaim("job_1", "miner-1", 5), new JobClaim("job_2", "miner-2", 6), new JobClaim("job_3", "miner-2", 6),
             new JobClaim("job_none", "miner-1", 5)], 1100, default);

        Assert.Equal(["job_0", "job_3"], claimed.Order(StringComparer.Ordinal));
        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => store.GetJobAsync($"job_{i}", default)));
        Assert.Equal(
            [(JobStatus.Assigned, "miner-1", 5UL, 1100L), (JobStatus.Cancelled, null, null, null), (JobStatus.Assigned, "miner-x", 9UL, 1060L), (JobStatus.Assigned, "miner-2", 6UL, 1100L)],
            jobs.Select(j => (j!.Status, j.Miner, j.PricePerSecondMicro, j.AssignedAt)));
        Assert.Empty(await store.AssignJobsAsync([new JobClaim("job_0", "miner-2", 6)], 1200, default));
        Assert.Empty(await store.AssignJobsAsync([], 1200, default));
        Assert.Equal("miner-1", (await store.GetJobAsync("job_0", default))!.Miner);
    }

    private static async Task<CompletedJob> DoneAsync(CoordinatorStore store, string jobId, string miner, ulong cost, long at, string? receiptId = null) =>
        new((await store.GetJobAsync(jobId, default))! with { Result = "result " + jobId, CostMicro = cost, CompletedAt = at },
            new ReceiptRecord(receiptId ?? "rcpt_" + jobId, jobId, miner, "aitbc1client", "{}", "hash-" + jobId, at), Row(jobId, OutboxKind.RecordReceipt, at));

    [Fact]
    public async Task A_group_of_completions_stores_each_that_can_complete_once_and_counts_them_all()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-1"), default);
        await store.UpsertMinerAsync(Miner("miner-2"), default);
        for (var i = 0; i < 4; i++)
        {
            await store.InsertJobAsync(Job($"job_{i}", 1000 + i), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default);
        }
        Assert.Equal(3, (await store.AssignJobsAsync([new JobClaim("job_0", "miner-1", 7), new JobClaim("job_1", "miner-2", 7), new JobClaim("job_2", "miner-1", 7)], 1100, default)).Count);
        Assert.True(await store.StartJobAsync("job_2", "miner-1", 1150, default));

        var done = await store.CompleteJobsAsync(
        [
            await DoneAsync(store, "job_2", "miner-1", 30, 1200),
            await DoneAsync(store, "job_0", "miner-1", 10, 1200),
            await DoneAsync(store, "job_3", "miner-1", 99, 1200), // still pending
            await DoneAsync(store, "job_1", "miner-1", 5, 1200), // another miner's job
            await DoneAsync(store, "job_0", "miner-1", 10, 1200), // the same job twice
            await DoneAsync(store, "job_1", "miner-2", 20, 1200),
        ], default);

        Assert.Equal([true, true, false, false, false, true], done);
        var jobs = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => store.GetJobAsync($"job_{i}", default)));
        Assert.Equal(
            [(JobStatus.Completed, 10UL, 1200L), (JobStatus.Completed, 20UL, 1200L), (JobStatus.Completed, 30UL, 1150L), (JobStatus.Pending, null, null)],
            jobs.Select(j => (j!.Status, j.CostMicro, j.StartedAt)));
        Assert.Equal(["rcpt_job_0", "rcpt_job_1", "rcpt_job_2"], (await store.ListReceiptsAsync(null, 10, default)).Select(r => r.Id).Order(StringComparer.Ordinal));
        foreach (var id in new[] { "job_0", "job_1", "job_2" })
        {
            Assert.Single(await store.OutboxForJobAsync(id, default), r => r.Kind == OutboxKind.RecordReceipt);
        }
        var one = (await store.GetMinerAsync("miner-1", default))!;
        var two = (await store.GetMinerAsync("miner-2", default))!;
        // Each completion moves the reputation as it does alone: 0.5 → 0.525 → 0.54875.
        Assert.Equal((2L, 0.54875, 1L, 0.525), (one.JobsCompleted, Math.Round(one.Reputation, 9), two.JobsCompleted, Math.Round(two.Reputation, 9)));
        Assert.Equal(60UL, await store.TotalPaidAsync(default));
        Assert.Equal(3L, (await store.JobCountsByStatusAsync(default))[JobStatus.Completed]);
        Assert.Empty(await store.CompleteJobsAsync([], default));
    }

    [Fact]
    public async Task Completions_waiting_together_are_stored_as_one_group_and_one_that_cannot_be_stored_fails_alone()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-1"), default);
        for (var i = 0; i < 5; i++)
        {
            await store.InsertJobAsync(Job($"job_{i}", 1000 + i), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default);
            Assert.True(await store.AssignJobAsync($"job_{i}", "miner-1", 7, 1100, default));
        }
        Assert.True(await store.CompleteJobAsync((await DoneAsync(store, "job_4", "miner-1", 1, 1150)).Job, new ReceiptRecord("rcpt_taken", "job_4", "miner-1", "aitbc1client", "{}", "h", 1150),
            Row("job_4", OutboxKind.RecordReceipt, 1150), default));
        var writer = new CompletionWriter(store);

        Task<bool> first, second, clash, fourth;
        await using (await HoldJobWritesAsync())
        {
            first = writer.CompleteAsync(await DoneAsync(store, "job_0", "miner-1", 10, 1200), default);
            // The writer took the first alone and waits for the database; the next three queue up behind it as one group.
            await Poll.UntilAsync(() => Task.FromResult(writer.Waiting == 0));
            second = writer.CompleteAsync(await DoneAsync(store, "job_1", "miner-1", 10, 1200), default);
            clash = writer.CompleteAsync(await DoneAsync(store, "job_2", "miner-1", 10, 1200, receiptId: "rcpt_taken"), default);
            fourth = writer.CompleteAsync(await DoneAsync(store, "job_3", "miner-1", 10, 1200), default);
            Assert.Equal(3, writer.Waiting);
        }

        Assert.True(await first);
        Assert.True(await second);
        await Assert.ThrowsAnyAsync<DbException>(() => clash);
        Assert.True(await fourth);
        var statuses = await Task.WhenAll(Enumerable.Range(0, 4).Select(async i => (await store.GetJobAsync($"job_{i}", default))!.Status));
        Assert.Equal([JobStatus.Completed, JobStatus.Completed, JobStatus.Assigned, JobStatus.Completed], statuses);
        Assert.Equal(4L, (await store.JobCountsByStatusAsync(default))[JobStatus.Completed]);
        Assert.Equal(4L, (await store.GetMinerAsync("miner-1", default))!.JobsCompleted);
    }

    [Fact]
    public async Task A_job_runs_completes_once_and_credits_its_miner()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-1"), default);
        await store.InsertJobAsync(Job("job_a", 1000), Row("job_a", OutboxKind.SubmitJob, 1000), default);
        Assert.False(await store.StartJobAsync("job_a", "miner-1", 1100, default));
        Assert.True(await store.AssignJobAsync("job_a", "miner-1", 7, 1100, default));
        Assert.False(await store.UnassignJobAsync("job_a", "miner-2", 1150, default));
        Assert.True(await store.UnassignJobAsync("job_a", "miner-1", 1150, default));
        Assert.Null((await store.GetJobAsync("job_a", default))!.Miner);
        Assert.True(await store.AssignJobAsync("job_a", "miner-1", 7, 1200, default));
        Assert.True(await store.StartJobAsync("job_a", "miner-1", 1300, default));
        Assert.Equal(["job_a"], (await store.ActiveJobsAsync(default)).Select(j => j.Id));
        Assert.Equal(["job_a"], (await store.JobsPastDeadlineAsync(1_000_000, default)).Select(j => j.Id));

        var completed = (await store.GetJobAsync("job_a", default))! with { Result = "answer", CostMicro = 1_500_000, CompletedAt = 1400 };
        var receipt = new ReceiptRecord("rcpt_a", "job_a", "miner-1", "aitbc1client", "{\"r\":1}", "chash", 1400);
        Assert.True(await store.CompleteJobAsync(completed, receipt, Row("job_a", OutboxKind.RecordReceipt, 1400), default));
        Assert.False(await store.CompleteJobAsync(completed, receipt with { Id = "rcpt_b" }, Row("job_a", OutboxKind.RecordReceipt, 1500), default));
        Assert.False(await store.FailJobWithRefundAsync("job_a", "late", [JobStatus.Assigned, JobStatus.Running], null, MinerOutcome.Failed,
            Row("job_a", OutboxKind.RefundJob, 1500), 1500, default));

        var job = (await store.GetJobAsync("job_a", default))!;
        Assert.Equal((JobStatus.Completed, "answer", 1_500_000UL, "rcpt_a", 1300L, 1400L), (job.Status, job.Result, job.CostMicro, job.ReceiptId, job.StartedAt, job.CompletedAt));
        Assert.Equal(receipt, await store.GetReceiptByJobAsync("job_a", default));
        var miner = (await store.GetMinerAsync("miner-1", default))!;
        Assert.Equal(1, miner.JobsCompleted);
        Assert.Equal(0.525, miner.Reputation, 9);
        Assert.Equal(1_500_000UL, await store.TotalPaidAsync(default));
        Assert.Equal(1L, (await store.JobCountsByStatusAsync(default))[JobStatus.Completed]);
        Assert.Equal(["job_a"], (await store.ListAllJobsAsync(JobStatus.Completed, null, 10, default)).Select(j => j.Id));
        Assert.Empty(await store.ListAllJobsAsync(JobStatus.Pending, null, 10, default));
    }

    [Fact]
    public async Task A_failed_job_is_refunded_once_and_costs_its_miner_reputation()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-1"), default);
        await store.InsertJobAsync(Job("job_a", 1000), Row("job_a", OutboxKind.SubmitJob, 1000), default);
        Assert.True(await store.AssignJobAsync("job_a", "miner-1", 7, 1100, default));
        Assert.True(await store.FailJobWithRefundAsync("job_a", "timed out", [JobStatus.Assigned, JobStatus.Running], null, MinerOutcome.TimedOut,
            Row("job_a", OutboxKind.RefundJob, 1200), 1200, default));
        Assert.False(await store.FailJobWithRefundAsync("job_a", "again", [JobStatus.Assigned, JobStatus.Running], null, MinerOutcome.TimedOut,
            Row("job_a", OutboxKind.RefundJob, 1300), 1300, default));
        var job = (await store.GetJobAsync("job_a", default))!;
        Assert.Equal((JobStatus.Failed, "timed out"), (job.Status, job.Error));
        var miner = (await store.GetMinerAsync("miner-1", default))!;
        Assert.Equal((1L, 0.35), (miner.JobsTimedOut, Math.Round(miner.Reputation, 9)));
        Assert.Single(await store.OutboxForJobAsync("job_a", default), r => r.Kind == OutboxKind.RefundJob);
    }

    [Fact]
    public async Task Outbox_rows_move_through_their_states_in_id_order_each_job_behind_its_own_rows_only()
    {
        var store = await SeededAsync(await StoreAsync());
        var first = await store.InsertJobAsync(Job("job_a", 1000), Row("job_a", OutboxKind.SubmitJob, 1000), default);
        var second = await store.InsertJobAsync(Job("job_b", 1001), Row("job_b", OutboxKind.SubmitJob, 1001), default);
        Assert.Equal(first, (await store.NextDueOutboxAsync(1000, default))!.Id);
        Assert.Equal(1000L, (await store.OutboxHeadAsync(default))?.NotBefore);

        await store.MarkOutboxSignedAsync(first, 7, "TXHASH", 1010, default);
        await store.MarkOutboxRetryAsync(first, "node down", 5000, 1020, default);
        await store.MarkOutboxRetryAsync(second, "node down", 6000, 1020, default);
        // Backing off, the head holds back its own job's later rows, not other jobs' rows.
        Assert.True(await store.CancelJobAsync("job_a", 1030, Row("job_a", OutboxKind.RefundJob, 1030), default));
        var third = await store.InsertJobAsync(Job("job_c", 1040), Row("job_c", OutboxKind.SubmitJob, 1040), default);
        Assert.Equal([third], (await store.DueOutboxAsync(4999, 10, default)).Select(r => r.Id));
        await store.CloseOutboxAsync(third, OutboxStatus.Committed, 41, null, 1050, default);
        Assert.Null(await store.NextDueOutboxAsync(4999, default));
        Assert.Equal(5000L, (await store.OutboxHeadAsync(default))?.NotBefore);
        var head = (await store.NextDueOutboxAsync(5000, default))!;
        Assert.Equal((first, 1, "node down", 7UL, "TXHASH"), (head.Id, head.Attempts, head.LastError, head.Nonce, head.TxHash));

        await store.MarkOutboxSentAsync(first, 5100, default);
        Assert.Equal([first], (await store.SentOutboxAsync(10, default)).Select(r => r.Id));
        await store.RequeueOutboxAsync(first, 5200, default);
        Assert.Empty(await store.SentOutboxAsync(10, default));
        await store.MarkOutboxSentAsync(first, 5300, default);
        await store.CloseOutboxAsync(first, OutboxStatus.Committed, 42, null, 5400, default);
        var closed = (await store.OutboxForJobAsync("job_a", default)).Single(r => r.Kind == OutboxKind.SubmitJob);
        Assert.Equal((OutboxStatus.Committed, 42L, 3, 5300L), (closed.Status, closed.Height, closed.Attempts, closed.SentAt));
        // Its escrow settled, job_a's refund is due after job_b's escrow, in id order.
        var refund = (await store.OutboxForJobAsync("job_a", default)).Single(r => r.Kind == OutboxKind.RefundJob).Id;
        Assert.Equal([second, refund], (await store.DueOutboxAsync(9999, 10, default)).Select(r => r.Id));
        await store.CloseOutboxAsync(second, OutboxStatus.Refused, null, "insufficient allowance", 9999, default);
        await store.CloseOutboxAsync(refund, OutboxStatus.Committed, 43, null, 9999, default);
        Assert.Null((await store.OutboxHeadAsync(default))?.NotBefore);

        // A job's escrow settles once: a second settlement row is refused by the schema.
        Assert.True(await store.CancelJobAsync("job_c", 6000, Row("job_c", OutboxKind.RefundJob, 6000), default));
        await Assert.ThrowsAnyAsync<DbException>(() => store.FailJobWithRefundAsync("job_b", "x", [JobStatus.Pending], null, MinerOutcome.None,
            Row("job_c", OutboxKind.RefundJob, 6100), 6100, default));
        Assert.Equal(JobStatus.Pending, (await store.GetJobAsync("job_b", default))!.Status);
    }

    [Fact]
    public async Task Miners_register_heartbeat_and_receipts_list_with_their_block()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-b"), default);
        await store.UpsertMinerAsync(Miner("miner-a", price: 3), default);
        await store.UpsertMinerAsync(Miner("miner-a", price: 4) with { Reputation = 0.9, RegisteredAt = 99, GpuJson = null, GpuUtilization = null }, default);
        var a = (await store.GetMinerAsync("miner-a", default))!;
        // A new registration refreshes the offer and keeps the record.
        Assert.Equal((4UL, 0.5, 10L, (string?)null, (double?)null), (a.PricePerSecondMicro, a.Reputation, a.RegisteredAt, a.GpuJson, a.GpuUtilization));
        Assert.Equal(["model-a", "model-b"], a.Models);
        Assert.True(await store.HeartbeatMinerAsync("miner-a", ["model-c"], 2, 0.75, 500, default));
        Assert.False(await store.HeartbeatMinerAsync("miner-z", [], 0, null, 500, default));
        a = (await store.GetMinerAsync("miner-a", default))!;
        Assert.Equal(["model-c"], a.Models);
        Assert.Equal((2, (double?)0.75, 500L), (a.InFlight, a.GpuUtilization, a.LastSeen));
        Assert.Equal(["miner-a", "miner-b"], (await store.ListMinersAsync(default)).Select(m => m.Address));

        for (var i = 0; i < 3; i++)
        {
            var id = $"job_{i}";
            await store.InsertJobAsync(Job(id, 1000 + i), Row(id, OutboxKind.SubmitJob, 1000 + i), default);
            Assert.True(await store.AssignJobAsync(id, "miner-a", 1, 1100, default));
            var done = (await store.GetJobAsync(id, default))! with { Result = "r", CostMicro = 10, CompletedAt = 2000 + i };
            Assert.True(await store.CompleteJobAsync(done, new ReceiptRecord($"rcpt_{i}", id, "miner-a", "aitbc1client", "{}", "h", 2000 + i), Row(id, OutboxKind.RecordReceipt, 2000 + i), default));
        }
        var row = (await store.OutboxForJobAsync("job_1", default)).Single(r => r.Kind == OutboxKind.RecordReceipt);
        await store.MarkOutboxSignedAsync(row.Id, 1, "HASH1", 2100, default);
        await store.CloseOutboxAsync(row.Id, OutboxStatus.Committed, 77, null, 2200, default);

        var page = await store.ListReceiptsAsync(null, 2, default);
        Assert.Equal(["rcpt_2", "rcpt_1"], page.Select(r => r.Id));
        Assert.Equal(("HASH1", 77L), (page[1].TxHash, page[1].BlockHeight));
        Assert.Null(page[0].TxHash);
        Assert.Equal(["rcpt_0"], (await store.ListReceiptsAsync(new TimeCursor(page[1].IssuedAt, page[1].Id), 5, default)).Select(r => r.Id));
        Assert.Equal(30UL, await store.TotalPaidAsync(default));
        Assert.Equal(3, (await store.GetMinerAsync("miner-a", default))!.JobsCompleted);
    }

    [Fact]
    public async Task Counts_by_status_and_total_paid_follow_every_way_a_job_ends()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(Miner("miner-a"), default);
        for (var i = 0; i < 6; i++)
        {
            await store.InsertJobAsync(Job($"job_{i}", 1000 + i), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default);
        }
        foreach (var id in new[] { "job_0", "job_1", "job_2" })
        {
            Assert.True(await store.AssignJobAsync(id, "miner-a", 1, 1100, default));
        }
        var done = (await store.GetJobAsync("job_0", default))! with { Result = "r", CostMicro = 25, CompletedAt = 2000 };
        Assert.True(await store.CompleteJobAsync(done, new ReceiptRecord("rcpt_0", "job_0", "miner-a", "aitbc1client", "{}", "h", 2000), Row("job_0", OutboxKind.RecordReceipt, 2000), default));
        Assert.True(await store.FailJobWithRefundAsync("job_1", "backend", [JobStatus.Assigned], "miner-a", MinerOutcome.Failed, Row("job_1", OutboxKind.RefundJob, 2100), 2100, default));
        Assert.True(await store.FailJobAsync("job_3", "refused", 2200, default));
        Assert.False(await store.FailJobAsync("job_3", "again", 2300, default));
        Assert.True(await store.CancelJobAsync("job_4", 2400, Row("job_4", OutboxKind.RefundJob, 2400), default));
        Assert.True(await store.CancelJobAsync("job_5", 2500, Row("job_5", OutboxKind.RefundJob, 2500), default));
        // The chain refused job_5's escrow after it was cancelled: it goes, and so does its count.
        await store.DeleteJobAsync("job_5", default);

        var counts = await store.JobCountsByStatusAsync(default);
        Assert.Equal(new Dictionary<string, long>
        {
            [JobStatus.Assigned] = 1,
            [JobStatus.Cancelled] = 1,
            [JobStatus.Completed] = 1,
            [JobStatus.Failed] = 2,
        }, counts);
        Assert.Equal(25UL, await store.TotalPaidAsync(default));
    }
}

public sealed class SqliteStoreTests : StoreTests, IDisposable
{
    private readonly string _dir = TempDir.Create("store");

    protected override Task<Func<CoordinatorStore>> NewDatabaseAsync()
    {
        var path = Path.Combine(_dir, "coordinator.db");
        return Task.FromResult<Func<CoordinatorStore>>(() => CoordinatorStore.Create(null, path));
    }

    protected override async Task<IAsyncDisposable> HoldJobWritesAsync()
    {
        // SQLite has one writer: holding its write lock holds every write (the store waits on its busy timeout).
        var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "coordinator.db")};Pooling=False");
        await db.OpenAsync();
        await using var begin = db.CreateCommand();
        begin.CommandText = "BEGIN IMMEDIATE;";
        await begin.ExecuteNonQueryAsync();
        return db;
    }

    [Fact]
    public async Task Upgrading_to_job_totals_counts_the_jobs_already_ended()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.UpsertMinerAsync(new MinerRecord("miner-a", "pub", "key_a", "http://127.0.0.1:1/", ["model-a"], 4, 0, 1, null, null, 1, 1, 0.5, 0, 0, 0), default);
        for (var i = 0; i < 3; i++)
        {
            await store.InsertJobAsync(Job($"job_{i}", 1000 + i), Row($"job_{i}", OutboxKind.SubmitJob, 1000 + i), default);
        }
        Assert.True(await store.AssignJobAsync("job_0", "miner-a", 1, 1100, default));
        var done = (await store.GetJobAsync("job_0", default))! with { Result = "r", CostMicro = 40, CompletedAt = 2000 };
        Assert.True(await store.CompleteJobAsync(done, new ReceiptRecord("rcpt_0", "job_0", "miner-a", "aitbc1client", "{}", "h", 2000), Row("job_0", OutboxKind.RecordReceipt, 2000), default));
        Assert.True(await store.FailJobAsync("job_1", "refused", 2100, default));
        // As a database from before migration 4: no totals table, the ended jobs only in jobs.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "coordinator.db")}"))
        {
            await db.OpenAsync();
            await using var downgrade = db.CreateCommand();
            downgrade.CommandText = "DROP TABLE job_totals; DELETE FROM schema_migrations WHERE version = 4;";
            await downgrade.ExecuteNonQueryAsync();
        }

        var upgraded = await StoreAsync();

        Assert.Equal(new Dictionary<string, long>
        {
            [JobStatus.Pending] = 1,
            [JobStatus.Completed] = 1,
            [JobStatus.Failed] = 1,
        }, await upgraded.JobCountsByStatusAsync(default));
        Assert.Equal(40UL, await upgraded.TotalPaidAsync(default));
    }

    [Fact]
    public async Task The_deadline_sweep_reads_the_unfinished_jobs_index_not_every_pending_job()
    {
        var store = await StoreAsync();
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_dir, "coordinator.db")}");
        await db.OpenAsync();
        await using var explain = db.CreateCommand();
        explain.CommandText = "EXPLAIN QUERY PLAN " + store.PastDeadlineSql;
        explain.Parameters.AddWithValue("@now", 1_000L);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }
        // A range search of the partial index, already in ORDER BY order: no scan of the status index, no sort.
        Assert.Equal(["SEARCH jobs USING INDEX ix_jobs_unfinished_deadline (deadline_at<?)"], plan);
    }

    public void Dispose() => TempDir.Delete(_dir);
}

/// <summary>One throwaway PostgreSQL server for the class; each test takes a fresh database on it.</summary>
public sealed class PostgresServerFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

public sealed class PostgresStoreTests(PostgresServerFixture postgres) : StoreTests, IClassFixture<PostgresServerFixture>
{
    private string _database = null!;

    protected override async Task<Func<CoordinatorStore>> NewDatabaseAsync()
    {
        _database = await postgres.Server.CreateDatabaseAsync("store");
        return () => CoordinatorStore.Create(_database, "/nonexistent/unused.db");
    }

    protected override async Task<IAsyncDisposable> HoldJobWritesAsync()
    {
        // EXCLUSIVE lets readers through but makes every UPDATE of jobs wait; closing the connection ends the transaction.
        var db = new Npgsql.NpgsqlConnection(_database + ";Pooling=false");
        await db.OpenAsync();
        await using var begin = db.CreateCommand();
        begin.CommandText = "BEGIN; LOCK TABLE jobs IN EXCLUSIVE MODE;";
        await begin.ExecuteNonQueryAsync();
        return db;
    }

    [Fact]
    public async Task Coordinators_starting_together_migrate_one_after_the_other()
    {
        var stores = Enumerable.Range(0, 4).Select(_ => CoordinatorStore.Create(_database, "/nonexistent/unused.db")).ToList();
        try
        {
            await Task.WhenAll(stores.Select(store => Task.Run(() => store.MigrateAsync(default))));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
        await using var db = new Npgsql.NpgsqlConnection(_database);
        await db.OpenAsync();
        await using var count = db.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM schema_migrations";
        Assert.Equal((long)Migrations.Steps.Count, (long)(await count.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task The_deadline_sweep_can_read_the_unfinished_jobs_index()
    {
        var store = await StoreAsync();
        await using var db = new Npgsql.NpgsqlConnection(_database);
        await db.OpenAsync();
        // The table is tiny, so the planner would rightly scan it; forbidding that shows the partial index applies to the query.
        await using var explain = db.CreateCommand();
        explain.CommandText = "SET enable_seqscan = off; EXPLAIN " + store.PastDeadlineSql.Replace("@now", "1000", StringComparison.Ordinal);
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }
        Assert.Contains(plan, line => line.Contains("ix_jobs_unfinished_deadline", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_claim_skips_a_job_another_coordinator_holds_locked_instead_of_waiting_for_it()
    {
        var store = await SeededAsync(await StoreAsync());
        await store.InsertJobAsync(Job("job_a", 1000), Row("job_a", OutboxKind.SubmitJob, 1000), default);

        // Another coordinator is in the middle of changing the job: its transaction holds the row.
        await using var other = new Npgsql.NpgsqlConnection(_database);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var hold = other.CreateCommand())
        {
            hold.CommandText = "SELECT id FROM jobs WHERE id = 'job_a' FOR UPDATE";
            hold.Transaction = tx;
            await hold.ExecuteScalarAsync();
        }
        // Without SKIP LOCKED the claim would wait for that transaction; with it, it passes the job by at once.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.False(await store.AssignJobAsync("job_a", "miner-1", 5, 1100, timeout.Token));
        await tx.RollbackAsync();
        Assert.True(await store.AssignJobAsync("job_a", "miner-1", 5, 1200, default));
    }

    [Fact]
    public async Task A_pass_claiming_several_jobs_skips_one_another_coordinator_holds_locked_and_claims_the_rest()
    {
        var store = await SeededAsync(await StoreAsync());
        foreach (var id in new[] { "job_a", "job_b", "job_c" })
        {
            await store.InsertJobAsync(Job(id, 1000), Row(id, OutboxKind.SubmitJob, 1000), default);
        }

        await using var other = new Npgsql.NpgsqlConnection(_database);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var hold = other.CreateCommand())
        {
            hold.CommandText = "SELECT id FROM jobs WHERE id = 'job_b' FOR UPDATE";
            hold.Transaction = tx;
            await hold.ExecuteScalarAsync();
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var claimed = await store.AssignJobsAsync([new JobClaim("job_a", "miner-1", 5), new JobClaim("job_b", "miner-1", 5), new JobClaim("job_c", "miner-1", 5)],
            1100, timeout.Token);
        await tx.RollbackAsync();

        Assert.Equal(["job_a", "job_c"], claimed.Order(StringComparer.Ordinal));
        Assert.Equal(JobStatus.Pending, (await store.GetJobAsync("job_b", default))!.Status);
    }
}

public sealed class DatabaseSettingsTests
{
    [Fact]
    public static void The_database_setting_selects_postgres_for_connection_strings_and_urls()
    {
        Assert.True(DatabaseSettings.IsPostgres("Host=db;Database=aitbc;Username=coord"));
        Assert.True(DatabaseSettings.IsPostgres("postgresql://coord:secret@db:5433/aitbc?sslmode=require"));
        Assert.False(DatabaseSettings.IsPostgres(null));
        Assert.False(DatabaseSettings.IsPostgres("/var/lib/aitbc/coordinator.db"));
        var converted = new Npgsql.NpgsqlConnectionStringBuilder(DatabaseSettings.ToNpgsql("postgresql://coord:s%40cret@db:5433/aitbc?sslmode=require"));
        Assert.Equal(("db", 5433, "aitbc", "coord", "s@cret", Npgsql.SslMode.Require),
            (converted.Host, converted.Port, converted.Database, converted.Username, converted.Password, converted.SslMode));
        Assert.DoesNotContain("secret", DatabaseSettings.Redact("Host=db;Username=u;Password=secret"), StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => CoordinatorStore.Create("coordinator.db", "c.db"));
        Assert.Throws<ArgumentException>(() => new CoordinatorOptions { Database = "coordinator.db" }.Validate());
    }
}
