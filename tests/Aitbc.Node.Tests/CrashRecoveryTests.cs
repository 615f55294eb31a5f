using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Aitbc.Core;
using Aitbc.Core.Transactions;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests;

/// <summary>
/// kill -9 of a validator while broadcast_tx_commit calls are in flight, three times over: whatever the node
/// acknowledged with a height survives, state matches the committed transfers exactly, and it keeps making blocks.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Rounds = 3;
    private const int Senders = 6;
    private const int MinAckedPerRound = 30;

    private sealed record Sent(SignedTransaction Tx, Wallet From, Address To, ulong Amount);

    [Fact]
    public async Task Validator_killed_mid_traffic_keeps_every_acknowledged_tx_and_consistent_balances()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"random seed {seed}");
        var random = new Random(seed);
        await using var net = await TestNet.CreateAsync("crash", fundedWallets: Senders, blockIntervalMs: 20);
        var recipients = Enumerable.Range(0, 4).Select(i => net.NewWallet($"crash-recipient-{i}")).ToArray();
        var sent = new ConcurrentDictionary<string, Sent>(StringComparer.Ordinal);
        var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var node = await net.StartValidatorAsync();

        for (var round = 1; round <= Rounds; round++)
        {
            foreach (var wallet in net.Funded)
            {
                wallet.NextNonce = (await node.Rpc.AccountAsync(wallet.Address.Value)).Nonce + 1;
            }
            var ackedBefore = acknowledged.Count;
            var inFlight = 0;
            using var stop = new CancellationTokenSource();
            var workers = net.Funded.Select((wallet, i) => Task.Run(async () =>
            {
                var rng = new Random(seed + (round * 100) + i);
                while (!stop.IsCancellationRequested)
                {
                    var to = recipients[rng.Next(recipients.Length)];
                    var amount = (ulong)rng.Next(1, 1_000_000);
                    var tx = wallet.Transfer(to.Address, amount);
                    sent[tx.Hash] = new Sent(tx, wallet, to.Address, amount);
                    Interlocked.Increment(ref inFlight);
                    try
                    {
                        var result = await node.Rpc.BroadcastCommitAsync(tx);
                        var checkCode = result.GetProperty("check_tx").GetProperty("code").GetInt32();
                        var deliverCode = result.GetProperty("tx_result").GetProperty("code").GetInt32();
                        if (checkCode != 0 || deliverCode != 0)
                        {
                            throw new InvalidOperationException($"tx {tx.Hash} (nonce {tx.Tx.Nonce}) refused: {result}");
                        }
                        acknowledged[tx.Hash] = RpcClient.ParseLong(result.GetProperty("height"));
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or RpcCallException)
                    {
                        // The node died under the request: this sender stops until the restart.
                        return;
                    }
                    finally
                    {
                        Interlocked.Decrement(ref inFlight);
                    }
                }
            })).ToArray();

            await Poll.UntilAsync(() => Task.FromResult(acknowledged.Count - ackedBefore >= MinAckedPerRound || workers.Any(w => w.IsFaulted)),
                TimeSpan.FromSeconds(60), $"{MinAckedPerRound} acknowledged txs in round {round}");
            await Task.Delay(random.Next(0, 250)); // the random moment of the crash
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref inFlight) > 0), TimeSpan.FromSeconds(10), "a tx in flight");
            var pid = node.Pid;
            var inFlightAtKill = Volatile.Read(ref inFlight);
            await node.KillAsync();
            stop.Cancel();
            await Task.WhenAll(workers); // a faulted worker (refused tx) fails the test here
            var maxAcknowledged = acknowledged.Values.Max();
            output.WriteLine($"round {round}: killed pid {pid} with {inFlightAtKill} txs in flight; {acknowledged.Count} acknowledged so far, highest height {maxAcknowledged}, {sent.Count} sent");

            node = await net.StartValidatorAsync();
            var height = await node.Rpc.HeightAsync();
            Assert.True(height >= maxAcknowledged, $"restarted at height {height}, below acknowledged height {maxAcknowledged}");
            await AssertStateMatchesCommittedTransfersAsync(node, net, recipients, sent, acknowledged);

            // It keeps producing blocks for new transactions.
            var probe = net.Funded[round % Senders];
            probe.NextNonce = (await node.Rpc.AccountAsync(probe.Address.Value)).Nonce + 1;
            var probeTx = probe.Transfer(recipients[0].Address, 1);
            sent[probeTx.Hash] = new Sent(probeTx, probe, recipients[0].Address, 1);
            var probeHeight = await node.Rpc.CommitOkAsync(probeTx);
            acknowledged[probeTx.Hash] = probeHeight;
            Assert.True(probeHeight > height, $"new block {probeHeight} after restart at {height}");
        }

        await AssertStateMatchesCommittedTransfersAsync(node, net, recipients, sent, acknowledged);
        Assert.Contains("committed block", await File.ReadAllTextAsync(node.LogPath));
    }

    private async Task AssertStateMatchesCommittedTransfersAsync(NodeProcess node, TestNet net, Wallet[] recipients,
        ConcurrentDictionary<string, Sent> sent, ConcurrentDictionary<string, long> acknowledged)
    {
        var found = await node.Rpc.FindTxsAsync(sent.Keys);

        // Every acknowledged tx is there, at the height the node named.
        foreach (var (hash, height) in acknowledged)
        {
            var tx = found[hash] ?? throw new Xunit.Sdk.XunitException($"acknowledged tx {hash} (height {height}) lost after kill -9");
            Assert.Equal(height, RpcClient.ParseLong(tx.GetProperty("height")));
            Assert.Equal(0, tx.GetProperty("tx_result").GetProperty("code").GetInt32());
        }

        // Balances and nonces are exactly what the committed transfers make them.
        var committed = sent.Values.Where(s => found[s.Tx.Hash] is not null).ToList();
        output.WriteLine($"  {committed.Count} of {sent.Count} sent txs committed ({committed.Count - acknowledged.Count} without an acknowledgement)");
        var expected = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var wallet in net.Funded)
        {
            expected[wallet.Address.Value] = TestNet.FundedMicro;
        }
        foreach (var recipient in recipients)
        {
            expected[recipient.Address.Value] = 0;
        }
        foreach (var transfer in committed)
        {
            expected[transfer.From.Address.Value] -= transfer.Amount;
            expected[transfer.To.Value] += transfer.Amount;
        }
        foreach (var (address, balance) in expected)
        {
            var account = await node.Rpc.AccountAsync(address);
            Assert.True(balance == account.Balance, $"{address}: balance {account.Balance}, committed transfers make it {balance}");
        }
        foreach (var wallet in net.Funded)
        {
            var mine = committed.Where(c => c.From == wallet).Select(c => c.Tx.Tx.Nonce).Order().ToList();
            var account = await node.Rpc.AccountAsync(wallet.Address.Value);
            Assert.Equal((ulong)mine.Count, account.Nonce);
            Assert.Equal(Enumerable.Range(1, mine.Count).Select(n => (ulong)n), mine); // no gap: nothing after a lost tx survived
            var search = await node.Rpc.CallAsync("tx_search", new JsonObject { ["query"] = $"transfer.sender='{wallet.Address.Value}'", ["per_page"] = "1" });
            Assert.Equal(mine.Count, (int)RpcClient.ParseLong(search.GetProperty("total_count")));
        }
        var (total, counted) = await node.Rpc.SupplyAsync();
        Assert.Equal(net.TotalSupply, total);
        Assert.Equal(total, counted);
    }
}
