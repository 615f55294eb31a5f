using System.Net;
using System.Net.Http.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Chain;

/// <summary>Run on SQLite (<see cref="ReceiptRestartTestsOnSqlite"/>) and on PostgreSQL (<see cref="ReceiptRestartTestsOnPostgres"/>).</summary>
public abstract class ReceiptRestartTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_restart_between_accepting_a_completion_and_sending_its_receipt_pays_the_miner_exactly_once()
    {
        var dataDir = TempDir.Create("receipt-restart");
        try
        {
            string jobId;
            Core.Amount cost, clientBefore, minerBefore;
            FakeMiner miner;
            var first = await fixture.StartOwnCoordinatorAsync(o => o with { SendSettlements = false }, dataDir);
            await using (first)
            {
                using var client = await fixture.ClientAsync(47, coordinator: first, coordinatorKey: fixture.OwnKey);
                miner = await FakeMiner.StartAsync(fixture, 51, "restart-model", coordinator: first);
                clientBefore = await fixture.BalanceAsync(client.Address);
                minerBefore = await fixture.BalanceAsync(miner.Address);
                jobId = await client.SubmitOkAsync(Bodies.Flat(model: "restart-model", maxPrice: "2"));
                var job = await client.GetJobAsync(jobId, "?wait=10");
                Assert.Equal("completed", job.GetProperty("status").GetString());
                cost = Core.Amount.ParseAitbc(job.GetProperty("cost").GetString()!);
                // The completion is stored and its record_receipt queued, but nothing sends it: the process "dies" here.
                var receiptRow = Assert.Single(await first.Store.OutboxForJobAsync(jobId, default), r => r.Kind == OutboxKind.RecordReceipt);
                Assert.Equal(OutboxStatus.Pending, receiptRow.Status);
                Assert.Equal(EscrowStatus.Open, (await fixture.EscrowAsync(jobId)).Status);
            }
            await miner.DisposeAsync();

            await using var second = await fixture.StartOwnCoordinatorAsync(o => o, dataDir);
            var escrow = await fixture.EscrowAsync(jobId, EscrowStatus.Paid);
            Assert.Equal(cost, escrow.Paid);
            Assert.Equal(escrow.Amount - cost, escrow.Refunded);
            await Poll.UntilAsync(async () => (await second.Store.OutboxForJobAsync(jobId, default)).All(r => r.Status == OutboxStatus.Committed));

            Assert.Equal(minerBefore + cost, await fixture.BalanceAsync(fixture.Node.Funded[51].Address));
            Assert.Equal(clientBefore - cost, await fixture.BalanceAsync(fixture.Node.Funded[47].Address));
            var rows = await second.Store.OutboxForJobAsync(jobId, default);
            Assert.Equal(2, rows.Count);
            Assert.Equal(HttpStatusCode.OK, (await second.Http(RunningCoordinator.AdminKey).GetAsync($"v1/receipts/rcpt_{jobId["job_".Length..]}")).StatusCode);

            // The assign key is derived from the coordinator key, not stored: the restarted coordinator gives the same one.
            using var minerHttp = second.Http(miner.ApiKey, "X-Miner-Key");
            using var again = await minerHttp.PostAsJsonAsync("v1/miners/register",
                new MinerRegistration("http://127.0.0.1:1/", ["restart-model"], 1, "1"), RestJson.Options);
            Assert.Equal(miner.AssignKey, (await again.Content.ReadFromJsonAsync<MinerRegistered>(RestJson.Options))!.AssignKey);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class ReceiptRestartTestsOnSqlite(CoordinatorFixture fixture) : ReceiptRestartTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class ReceiptRestartTestsOnPostgres(PostgresCoordinatorFixture fixture) : ReceiptRestartTests(fixture);
