using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core;
using Aitbc.Core.Proofs;

namespace Aitbc.Coordinator.Tests.Miners;

/// <summary>Run on SQLite (<see cref="CompletionTestsOnSqlite"/>) and on PostgreSQL (<see cref="CompletionTestsOnPostgres"/>).</summary>
public abstract class CompletionTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_job_runs_on_a_miner_and_its_receipt_pays_the_miner_on_chain()
    {
        using var client = await fixture.ClientAsync(24);
        await using var miner = await FakeMiner.StartAsync(fixture, 25, "happy-model", price: "1");
        var clientBefore = await fixture.BalanceAsync(client.Address);
        var minerBefore = await fixture.BalanceAsync(miner.Address);
        var supplyBefore = await fixture.Chain.GetSupplyAsync();

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "happy-model", maxPrice: "2"));
        var job = await client.GetJobAsync(jobId, "?wait=10");

        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal("echo: What is machine learning?", job.GetProperty("result").GetString());
        Assert.Equal(miner.Address.Value, job.GetProperty("miner").GetString());
        var cost = Amount.ParseAitbc(job.GetProperty("cost").GetString()!);
        Assert.True(cost > Amount.Zero && cost <= Amount.ParseAitbc("0.3"), $"cost {cost}");
        var receiptId = job.GetProperty("receipt_id").GetString()!;

        var escrow = await fixture.EscrowAsync(jobId, EscrowStatus.Paid);
        Assert.Equal(cost, escrow.Paid);
        Assert.Equal(minerBefore + cost, await fixture.BalanceAsync(miner.Address));
        Assert.Equal(clientBefore - cost, await fixture.BalanceAsync(client.Address));
        var supply = await fixture.Chain.GetSupplyAsync();
        Assert.Equal(supplyBefore.TotalSupply, supply.TotalSupply);
        Assert.Equal(supply.TotalSupply, supply.Counted);

        Receipt? receipt = null;
        await Poll.UntilAsync(async () =>
        {
            using var response = await client.Http.GetAsync($"v1/receipts/{receiptId}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            receipt = JsonSerializer.Deserialize<Receipt>(await response.Content.ReadAsStringAsync(), RestJson.Options);
            return receipt!.Chain is { BlockHeight: > 0 };
        });
        Assert.True(receipt!.Verify(miner.Key.PublicKey, fixture.Node.Coordinators[0].PublicKey).Valid);
        Assert.Equal(cost.ToAitbcString(), receipt.AmountPaid);
        Assert.Equal("1", receipt.PricePerSecond);
        var onChain = await fixture.Chain.GetReceiptAsync(receiptId);
        Assert.NotNull(onChain);
        Assert.Equal(receipt.Chain!.TxHash, onChain.TxHash);
    }

    [Fact]
    public async Task A_miners_fail_refunds_the_client_in_full()
    {
        using var client = await fixture.ClientAsync(49);
        await using var miner = await FakeMiner.StartAsync(fixture, 50, "fail-model", mode: MinerMode.Fail);
        var before = await fixture.BalanceAsync(client.Address);

        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "fail-model", maxPrice: "2"));
        var job = await client.GetJobAsync(jobId, "?wait=10");

        Assert.Equal("failed", job.GetProperty("status").GetString());
        Assert.Equal("miner failed: out of memory", job.GetProperty("error").GetString());
        var escrow = await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);
        Assert.Equal(escrow.Amount, escrow.Refunded);
        await Poll.UntilAsync(async () => await fixture.BalanceAsync(client.Address) == before);
    }

    [Fact]
    public async Task Proofs_ownership_and_every_transition_are_checked()
    {
        using var client = await fixture.ClientAsync(37);
        await using var miner = await FakeMiner.StartAsync(fixture, 38, "strict-model", mode: MinerMode.Hold);
        await using var other = await FakeMiner.StartAsync(fixture, 39, "other-model", mode: MinerMode.Hold);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "strict-model"));
        var assignment = await miner.NextAssignmentAsync();
        Assert.Equal(jobId, assignment.JobId);
        Assert.Equal("2", assignment.Reward);

        // Another miner cannot touch it: the job reads as missing.
        Assert.Equal(HttpStatusCode.NotFound, (await other.CompleteAsync(other.Completion(assignment))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.StatusAsync(jobId)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.FailAsync(jobId)).StatusCode);
        // A client key is not a miner key.
        Assert.Equal(HttpStatusCode.Forbidden, (await client.Http.PostAsJsonAsync($"v1/jobs/{jobId}/complete", miner.Completion(assignment), RestJson.Options)).StatusCode);

        // Bad proofs are 400 and leave the job as it was.
        using (var badHash = await miner.CompleteAsync(miner.Completion(assignment, hashOverride: new string('0', 64))))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badHash.StatusCode);
            Assert.Contains("proof.hash", await badHash.Content.ReadAsStringAsync());
        }
        using (var badSignature = await miner.CompleteAsync(miner.Completion(assignment, signer: other.Key)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, badSignature.StatusCode);
            Assert.Contains("proof.signature", await badSignature.Content.ReadAsStringAsync());
        }
        Assert.Equal("assigned", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());

        using var started = await miner.StatusAsync(jobId);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.Equal("running", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());
        // A retried /status is answered as done, with the stored row: the first answer (built from the update) is that row.
        using var startedAgain = await miner.StatusAsync(jobId);
        Assert.Equal(HttpStatusCode.OK, startedAgain.StatusCode);
        Assert.Equal(await startedAgain.Content.ReadAsStringAsync(), await started.Content.ReadAsStringAsync());

        var completion = miner.Completion(assignment);
        using var completed = await miner.CompleteAsync(completion);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        // The same completion again (a retry after a lost answer) is 200 with the stored row, which the first answer showed; a different one is 409.
        using var completedAgain = await miner.CompleteAsync(completion);
        Assert.Equal(HttpStatusCode.OK, completedAgain.StatusCode);
        Assert.Equal(await completedAgain.Content.ReadAsStringAsync(), await completed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await miner.CompleteAsync(miner.Completion(assignment, result: "something else"))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.StatusAsync(jobId)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.FailAsync(jobId)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
        await fixture.EscrowAsync(jobId, EscrowStatus.Paid);

        // A job cancelled while assigned cannot be started, completed or failed by its miner.
        var second = await client.SubmitOkAsync(Bodies.Flat(model: "strict-model", prompt: "second"));
        var secondAssignment = await miner.NextAssignmentAsync();
        Assert.Equal(second, secondAssignment.JobId);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.PostAsync($"v1/jobs/{second}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.StatusAsync(second)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.CompleteAsync(miner.Completion(secondAssignment))).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await miner.FailAsync(second)).StatusCode);
        await fixture.EscrowAsync(second, EscrowStatus.Refunded);
    }

    [Fact]
    public async Task Receipts_are_shown_to_their_client_their_miner_and_admins_only()
    {
        using var client = await fixture.ClientAsync(40);
        using var stranger = await fixture.ClientAsync(41, allowance: "0");
        await using var miner = await FakeMiner.StartAsync(fixture, 42, "receipt-model");
        await using var otherMiner = await FakeMiner.StartAsync(fixture, 43, "unrelated-model", mode: MinerMode.Hold);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "receipt-model"));
        var receiptId = (await client.GetJobAsync(jobId, "?wait=10")).GetProperty("receipt_id").GetString()!;

        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await miner.Coordinator.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await otherMiner.Coordinator.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.Http.GetAsync("v1/receipts/rcpt_nothing")).StatusCode);
        using var anonymous = fixture.Coordinator.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"v1/receipts/{receiptId}")).StatusCode);
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class CompletionTestsOnSqlite(CoordinatorFixture fixture) : CompletionTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class CompletionTestsOnPostgres(PostgresCoordinatorFixture fixture) : CompletionTests(fixture);
