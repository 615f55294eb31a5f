using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;

namespace Aitbc.E2E.Tests;

/// <summary>
/// kill -9 of the coordinator process after it accepted a completion and before its record_receipt reached the chain
/// (the node is cut off from it meanwhile, so the window is certain, not a race): after a restart the outbox delivers
/// the receipt, the miner is paid exactly once and the client gets the rest back.
/// </summary>
[Collection(E2ECollection.Name)]
public sealed class CoordinatorCrashTests(E2ENetwork net)
{
    [Fact]
    public async Task Coordinator_killed_between_completion_and_record_receipt_pays_the_miner_exactly_once()
    {
        // The coordinator reaches the node through a link the test can cut.
        await net.Coordinator.KillAsync();
        await using var link = new FlakyProxy(net.NodeUrl, refuse: 0);
        await net.StartCoordinatorAsync(link.Url);
        var gate = net.Ollama.GateOf(E2ENetwork.GatedModel);
        var direct = false;
        try
        {
            await net.WaitForMinersAsync(1);
            var clientBefore = (await net.Node.GetAccountAsync(net.ClientKey.Address)).Balance;
            var minersBefore = await Task.WhenAll(net.MinerKeys.Select(k => net.Node.GetAccountAsync(k.Address)));
            using var api = net.ClientApi();
            gate.Close();
            var accepted = await api.SubmitJobAsync(new JobSubmission("inference", "What is machine learning?", E2ENetwork.GatedModel, MaxPrice: "1"));
            // Escrow on chain, the miner waiting on the backend: cut the coordinator off the node, then let the job finish.
            await Poll.UntilAsync(async () => gate.Waiting > 0 && await net.Node.GetEscrowAsync(accepted.JobId) is { IsOpen: true }, 30_000);
            link.Cut();
            gate.Open();
            var job = await api.WaitForJobAsync(accepted.JobId);
            Assert.Equal(JobStatus.Completed, job.Status);
            var cost = Amount.ParseAitbc(job.Cost!);
            Assert.False(cost.IsZero);
            await Task.Delay(500);
            Assert.True((await net.Node.GetEscrowAsync(accepted.JobId))!.IsOpen, "record_receipt reached the chain before the kill");

            await net.Coordinator.KillAsync();
            await net.StartCoordinatorAsync();
            direct = true;

            EscrowInfo? escrow = null;
            await Poll.UntilAsync(async () => (escrow = await net.Node.GetEscrowAsync(accepted.JobId)) is { IsOpen: false }, 30_000);
            Assert.Equal(EscrowStatus.Paid, escrow!.Status);
            Assert.Equal(cost, escrow.Paid);
            Assert.Equal(new Amount(1_000_000) - cost, escrow.Refunded);
            var paidMiner = net.MinerKeys.ToList().FindIndex(k => k.Address.Value == job.Miner);
            Assert.Equal(minersBefore[paidMiner].Balance + cost, (await net.Node.GetAccountAsync(net.MinerKeys[paidMiner].Address)).Balance);
            Assert.Equal(clientBefore - cost, (await net.Node.GetAccountAsync(net.ClientKey.Address)).Balance);
            var onChain = await net.Node.SearchTxsAsync($"record_receipt.job_id='{accepted.JobId}'");
            Assert.Equal(1, onChain.TotalCount);
            var supply = await net.Node.GetSupplyAsync();
            Assert.True(supply.IsBalanced);
        }
        finally
        {
            gate.Open();
            if (!direct)
            {
                // Leave the shared network as the other tests expect it: a coordinator talking to the node directly.
                await net.Coordinator.KillAsync();
                await net.StartCoordinatorAsync();
            }
            await net.WaitForMinersAsync(net.Miners.Count(m => !m.HasExited));
        }
    }
}
