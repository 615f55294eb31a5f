using System.Net;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Coordinator.Tests.Storage;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Chain;

/// <summary>Run on SQLite (<see cref="OutboxRestartTestsOnSqlite"/>) and on PostgreSQL (<see cref="OutboxRestartTestsOnPostgres"/>).</summary>
public abstract class OutboxRestartTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_restart_mid_outbox_delivers_every_row_once()
    {
        // A coordinator of its own (genesis coordinator 1), so its nonce count is this test's alone.
        var key = fixture.Node.Coordinators[1];
        var dataDir = TempDir.Create("restart");
        try
        {
            string jobA, jobB;
            var first = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir, sendSettlements: false));
            await using (first)
            {
                using var client = await fixture.ClientAsync(13, coordinator: first, coordinatorKey: key);
                jobA = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "2"));
                jobB = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "3"));
                await fixture.EscrowAsync(jobA);
                await fixture.EscrowAsync(jobB);
                // No worker: the refund rows stay queued, as if the process died right after the cancels.
                Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobA}/cancel", null)).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobB}/cancel", null)).StatusCode);
                Assert.All((await first.Store.OutboxForJobAsync(jobA, default)).Where(r => r.Kind == OutboxKind.RefundJob), r => Assert.NotEqual(OutboxStatus.Committed, r.Status));
            }

            // Simulate a crash between broadcasting job B's submit_job and recording it: the row is pending again with its bytes.
            await using (var store = await fixture.OpenStoreAsync(dataDir))
            {
                var submitB = (await store.OutboxForJobAsync(jobB, default)).Single(r => r.Kind == OutboxKind.SubmitJob);
                await store.MarkOutboxRetryAsync(submitB.Id, "simulated crash", 0, 0, default);
            }

            var second = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir));
            await using (second)
            {
                await fixture.EscrowAsync(jobA, EscrowStatus.Refunded);
                await fixture.EscrowAsync(jobB, EscrowStatus.Refunded);
                await Poll.UntilAsync(async () =>
                    (await second.Store.OutboxForJobAsync(jobA, default)).Concat(await second.Store.OutboxForJobAsync(jobB, default))
                        .All(r => r.Status == OutboxStatus.Committed));
                var rows = (await second.Store.OutboxForJobAsync(jobA, default)).Concat(await second.Store.OutboxForJobAsync(jobB, default)).ToList();
                Assert.Equal(4, rows.Count);
                Assert.All(rows, r => Assert.True(r.Height > 0, $"row {r.Id} ({r.Kind}) has no height"));
            }

            // Two escrows and two refunds: exactly four transactions from this coordinator ever executed.
            Assert.Equal(4UL, (await fixture.Chain.GetAccountAsync(key.Address)).Nonce);
            Assert.Equal(new Core.Amount(fixture.Node.FundedMicro), await fixture.BalanceAsync(fixture.Node.Funded[13].Address));
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task A_row_signed_before_a_crash_goes_out_as_the_very_transaction_its_hash_records()
    {
        // Rows keep a signed transaction's nonce and hash, not its bytes: the writer signs the body at that nonce again and
        // must get those bytes back (Ed25519 is deterministic), or a copy already in the mempool would meet a second one.
        var key = fixture.Node.Coordinators[3];
        var dataDir = TempDir.Create("signed");
        try
        {
            var coordinator = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir));
            await using (coordinator)
            {
                var writer = coordinator.App.Services.GetRequiredService<ChainWriter>();
                using var client = await fixture.ClientAsync(71, coordinator: coordinator, coordinatorKey: key);
                const string jobId = "job_signedbeforeacrash000000000";
                SignedTransaction signed;
                using (await writer.HoldAsync(default))
                {
                    // As a writer that died between recording the signature and broadcasting it would have left the job.
                    var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    var body = new SubmitJobBody(jobId, client.Address, new string('a', 64), new Core.Amount(1_000_000));
                    var job = new JobRecord(jobId, client.Address.Value, Coordinator.Auth.ApiKeys.IdOf(client.ApiKey), Contracts.Coordinator.JobStatus.Pending, "llama3.2:latest",
                        "prompt", "{}", 1_000_000, body.PayloadHash, null, null, now, null, null, now + 60_000, null, null, null, null);
                    var id = (await coordinator.Store.InsertJobsAsync([(job, OutboxRows.SubmitJob(body, now))], default)).Single();
                    var chainId = (await fixture.Chain.GetStatusAsync()).ChainId;
                    var nonce = (await fixture.Chain.GetAccountAsync(key.Address)).NextNonce;
                    signed = new UnsignedTransaction(chainId, key.PublicKey, nonce, body).Sign(key);
                    await coordinator.Store.MarkOutboxSignedAsync(id, nonce, signed.Hash, now, default);
                    coordinator.App.Services.GetRequiredService<OutboxSignal>().Kick();
                }

                await fixture.EscrowAsync(jobId);
                // The escrow is the transaction recorded on the row, not one signed afresh at another nonce.
                Assert.NotNull(await fixture.Chain.GetTxAsync(signed.Hash));
                Assert.Equal(signed.Hash, (await coordinator.Store.OutboxForJobAsync(jobId, default)).Single().TxHash);
                Assert.Equal(signed.Tx.Nonce + 1, (await fixture.Chain.GetAccountAsync(key.Address)).NextNonce);
            }
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task Queued_settlements_go_out_as_one_batch_and_one_the_chain_calls_done_leaves_no_nonce_gap()
    {
        var key = fixture.OwnKey;
        var dataDir = TempDir.Create("settlement-batch");
        try
        {
            var jobs = new List<string>();
            var first = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir, sendSettlements: false));
            await using (first)
            {
                using var client = await fixture.ClientAsync(59, coordinator: first, coordinatorKey: key);
                for (var i = 0; i < 3; i++)
                {
                    jobs.Add(await client.SubmitOkAsync(Bodies.Flat(prompt: $"settle {i}", maxPrice: "1")));
                }
                foreach (var jobId in jobs)
                {
                    await fixture.EscrowAsync(jobId);
                    // No worker: the refunds stay queued, never signed.
                    Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
                }
            }
            // The middle job is refunded behind the outbox's back (while no coordinator runs, with the same key): the chain
            // will refuse its queued refund as already done.
            var other = await new TxSender(fixture.Chain, key, fixture.Node.ChainId).SendAndCommitAsync(new RefundJobBody(jobs[1], "elsewhere"));
            Assert.True(other.IsOk, other.Log);
            var nonceBefore = (await fixture.Chain.GetAccountAsync(key.Address)).Nonce;

            var second = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir));
            await using (second)
            {
                foreach (var jobId in jobs)
                {
                    await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);
                }
                await Poll.UntilAsync(async () => (await Task.WhenAll(jobs.Select(j => second.Store.OutboxForJobAsync(j, default))))
                    .All(rows => rows.All(r => r.Status == OutboxStatus.Committed)));
                var refunds = (await Task.WhenAll(jobs.Select(j => second.Store.OutboxForJobAsync(j, default)))).Select(rows => rows.Single(r => r.Kind == OutboxKind.RefundJob)).ToList();
                Assert.Contains("already done", refunds[1].LastError, StringComparison.Ordinal);
                Assert.True(refunds[0].Height > 0 && refunds[2].Height > 0);
            }

            // The refund after the refused one was signed again into its nonce: two refunds executed, nothing skipped.
            Assert.Equal(nonceBefore + 2, (await fixture.Chain.GetAccountAsync(key.Address)).Nonce);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task The_chain_refuses_a_second_settlement_and_the_outbox_counts_it_as_done()
    {
        using var client = await fixture.ClientAsync(14);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "1"));
        Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
        await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);

        // The database holds at most one settlement (receipt or refund) per job.
        var refused = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => fixture.ExecuteSqlAsync(
            "INSERT INTO outbox (job_id, kind, body_json, status, attempts, created_at, not_before, updated_at) VALUES (@j, 'record_receipt', '{}', 'pending', 0, 0, 0, 0)", ("@j", jobId)));
        Assert.Contains("UNIQUE", refused.Message, StringComparison.OrdinalIgnoreCase);

        // And the chain refuses a second close of an escrow by the coordinator that opened it, which the outbox reads as
        // "already done" (another coordinator is refused outright: escrows belong to their coordinator).
        var dataDir = TempDir.Create("second-close");
        string ownJob;
        try
        {
            await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RunScheduler = false }, dataDir);
            using var own = await fixture.ClientAsync(14, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
            ownJob = await own.SubmitOkAsync(Bodies.Flat(maxPrice: "1"));
            Assert.Equal(HttpStatusCode.OK, (await own.Http.PostAsync($"v1/jobs/{ownJob}/cancel", null)).StatusCode);
            await fixture.EscrowAsync(ownJob, EscrowStatus.Refunded);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
        var tx = await new Client.Node.TxSender(fixture.Chain, fixture.OwnKey, fixture.Node.ChainId).SendAndCommitAsync(new RefundJobBody(ownJob, "again"));
        Assert.Equal(TxCode.EscrowClosed, tx.Code);
        Assert.IsType<Coordinator.Chain.Delivery.AlreadyDone>(Coordinator.Chain.ChainWriter.Classify(tx.Code, tx.Log, tx.Hash));
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class OutboxRetryTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_refund_queued_during_a_node_outage_is_retried_with_backoff_until_the_node_is_back()
    {
        var key = fixture.Node.Coordinators[2];
        var dataDir = TempDir.Create("outage");
        await using var proxy = await SwitchableNodeProxy.StartAsync(fixture.Node.Url);
        try
        {
            await using var coordinator = await RunningCoordinator.StartAsync(RunningCoordinator.OptionsFor(fixture.Node, key, dataDir) with { NodeUrl = proxy.Url });
            using var client = await fixture.ClientAsync(17, coordinator: coordinator, coordinatorKey: key);
            var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "2"));
            await fixture.EscrowAsync(jobId);

            proxy.Down = true;
            Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
            await Poll.UntilAsync(async () => (await coordinator.Store.OutboxForJobAsync(jobId, default)).Single(r => r.Kind == OutboxKind.RefundJob).Attempts >= 2);
            var waiting = (await coordinator.Store.OutboxForJobAsync(jobId, default)).Single(r => r.Kind == OutboxKind.RefundJob);
            Assert.Equal(OutboxStatus.Pending, waiting.Status);
            Assert.Contains("unavailable", waiting.LastError, StringComparison.Ordinal);
            Assert.True(waiting.NotBefore > waiting.CreatedAt, "a failed row waits before its next try");
            Assert.Equal(EscrowStatus.Open, (await fixture.Chain.GetEscrowAsync(jobId))!.Status);

            proxy.Down = false;
            await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);
            Assert.Equal(new Core.Amount(fixture.Node.FundedMicro), await fixture.BalanceAsync(fixture.Node.Funded[17].Address));
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task A_refund_the_chain_cannot_place_before_its_escrow_waits_and_resends_the_submit_job_instead_of_giving_up()
    {
        // A node restart empties its mempool: the job's submit_job, sent but not in a block, is gone, and the refund after
        // it finds no escrow. Giving up on the refund would leave the escrow open for good once submit_job is resent.
        var dataDir = TempDir.Create("lost-escrow");
        try
        {
            await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { SendSettlements = false, RunScheduler = false }, dataDir);
            using var client = await fixture.ClientAsync(62, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
            var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "2"));
            Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
            var writer = coordinator.App.Services.GetRequiredService<Coordinator.Chain.ChainWriter>();
            using (await writer.HoldAsync(default))
            {
                // The writer follows escrows to their block and may have seen this one there: as after a node restart that
                // lost it from the mempool, the row is only sent.
                var submit = (await coordinator.Store.OutboxForJobAsync(jobId, default)).Single(r => r.Kind == OutboxKind.SubmitJob);
                await coordinator.Store.MarkOutboxSentAsync(submit.Id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), default);
                var rows = await coordinator.Store.OutboxForJobAsync(jobId, default);
                Assert.Equal(OutboxStatus.Sent, rows.Single(r => r.Kind == OutboxKind.SubmitJob).Status);
                var refund = rows.Single(r => r.Kind == OutboxKind.RefundJob);

                await writer.ApplyAsync(refund, new Coordinator.Chain.Delivery.Refused(TxCode.UnknownJob, $"job {jobId} has no escrow"), default);

                rows = await coordinator.Store.OutboxForJobAsync(jobId, default);
                Assert.Equal(OutboxStatus.Pending, rows.Single(r => r.Kind == OutboxKind.SubmitJob).Status);
                var waiting = rows.Single(r => r.Kind == OutboxKind.RefundJob);
                Assert.Equal(OutboxStatus.Pending, waiting.Status);
                Assert.Contains("UnknownJob", waiting.LastError, StringComparison.Ordinal);
            }

            // Delivered in order from there: the escrow (already on chain here, so found by its hash), then the refund.
            await Poll.UntilAsync(async () =>
            {
                await writer.PumpOnceAsync(settlements: true, default);
                await writer.ConfirmAsync(default);
                return (await fixture.Chain.GetEscrowAsync(jobId))?.Status == EscrowStatus.Refunded;
            });
            Assert.Equal(new Core.Amount(fixture.Node.FundedMicro), await fixture.BalanceAsync(fixture.Node.Funded[62].Address));
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class OutboxRestartTestsOnSqlite(CoordinatorFixture fixture) : OutboxRestartTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class OutboxRestartTestsOnPostgres(PostgresCoordinatorFixture fixture) : OutboxRestartTests(fixture);
