using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Transactions;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests;

/// <summary>A follower process next to a validator process: same blocks, same state, forwarded broadcasts.</summary>
public sealed class FollowerSyncTests(ITestOutputHelper output)
{
    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Follower_reaches_the_validators_height_with_identical_blocks_and_state_and_forwards_broadcasts()
    {
        await using var net = await TestNet.CreateAsync("follow", fundedWallets: 4);
        var validator = await net.StartValidatorAsync();
        var recipient = net.NewWallet("follow-recipient").Address;
        var committed = new List<SignedTransaction>();

        // History from before the follower existed: it must catch up from genesis.
        for (var i = 0; i < 5; i++)
        {
            var tx = net.Funded[0].Transfer(recipient, 1_000 + (ulong)i);
            await validator.Rpc.CommitOkAsync(tx);
            committed.Add(tx);
        }

        var follower = await net.StartFollowerAsync(validator.Url);
        Assert.True(File.Exists(Path.Combine(follower.DataDir, "config", "genesis.json")), "the follower wrote the genesis it fetched");
        Assert.False(File.Exists(Path.Combine(follower.DataDir, "config", "validator_key.json")), "a follower holds no validator key");

        // Traffic to both at once: commits on the validator, commits and syncs forwarded by the follower.
        var toValidator = Task.Run(async () =>
        {
            var txs = new List<SignedTransaction>();
            for (var i = 0; i < 8; i++)
            {
                var tx = net.Funded[1].Transfer(recipient, 2_000 + (ulong)i);
                await validator.Rpc.CommitOkAsync(tx);
                txs.Add(tx);
            }
            return txs;
        });
        var viaFollowerCommit = Task.Run(async () =>
        {
            var txs = new List<SignedTransaction>();
            for (var i = 0; i < 8; i++)
            {
                var tx = net.Funded[2].Transfer(recipient, 3_000 + (ulong)i);
                var result = await follower.Rpc.BroadcastCommitAsync(tx);
                Assert.True(result.GetProperty("tx_result").GetProperty("code").GetInt32() == 0, result.ToString());
                Assert.Equal(tx.Hash, result.GetProperty("hash").GetString());
                Assert.True(RpcClient.ParseLong(result.GetProperty("height")) > 0);
                txs.Add(tx);
            }
            return txs;
        });
        var viaFollowerSync = Task.Run(async () =>
        {
            var txs = new List<SignedTransaction>();
            for (var i = 0; i < 4; i++)
            {
                var tx = net.Funded[3].Transfer(recipient, 4_000 + (ulong)i);
                var result = await follower.Rpc.BroadcastSyncAsync(tx);
                Assert.True(result.GetProperty("code").GetInt32() == 0, result.ToString());
                txs.Add(tx);
            }
            var asyncTx = net.Funded[3].Transfer(recipient, 5_000);
            var answer = await follower.Rpc.CallAsync("broadcast_tx_async", new JsonObject { ["tx"] = Convert.ToBase64String(asyncTx.WireBytes) });
            Assert.Equal(asyncTx.Hash, answer.GetProperty("hash").GetString());
            txs.Add(asyncTx);
            return txs;
        });
        committed.AddRange(await toValidator);
        committed.AddRange(await viaFollowerCommit);
        var synced = await viaFollowerSync;
        committed.AddRange(synced);

        // A forwarded refusal comes back as the validator's verdict.
        var refused = await follower.Rpc.BroadcastSyncAsync(net.Funded[0].Transfer(recipient, 1, nonce: 1));
        Assert.Equal(4, refused.GetProperty("code").GetInt32());

        // The synced and async txs land in blocks; then both nodes stand at the same height.
        await Poll.UntilAsync(async () => (await validator.Rpc.FindTxsAsync(synced.Select(t => t.Hash))).Values.All(v => v is not null),
            TimeSpan.FromSeconds(30), "txs broadcast through the follower to be committed by the validator");
        var height = await validator.Rpc.HeightAsync();
        await Poll.UntilAsync(async () => await follower.Rpc.HeightAsync() == height, TimeSpan.FromSeconds(30), $"the follower to reach height {height}");
        output.WriteLine($"{committed.Count} txs in {height} blocks");

        // Block by block: same hash, header, txs, commit signature and resulting app_hash.
        var heights = Enumerable.Range(1, (int)height).Select(h => Str(h)).ToList();
        var calls = heights.SelectMany(h => new[]
        {
            ("block", new JsonObject { ["height"] = h }),
            ("block_results", new JsonObject { ["height"] = h }),
            ("commit", new JsonObject { ["height"] = h }),
        }).ToList();
        var mine = await validator.Rpc.BatchAsync(calls);
        var theirs = await follower.Rpc.BatchAsync(calls);
        for (var i = 0; i < calls.Count; i++)
        {
            Assert.True(mine[i].Error is null && theirs[i].Error is null, $"{calls[i].Item1} {calls[i].Item2}: {mine[i].Error?.Message} {theirs[i].Error?.Message}");
        }
        for (var i = 0; i < heights.Count; i++)
        {
            var (vBlock, fBlock) = (mine[3 * i].Result!.Value, theirs[3 * i].Result!.Value);
            Assert.Equal(vBlock.GetProperty("block_id").GetProperty("hash").GetString(), fBlock.GetProperty("block_id").GetProperty("hash").GetString());
            Assert.Equal(vBlock.GetProperty("block").ToString(), fBlock.GetProperty("block").ToString());
            var (vResults, fResults) = (mine[(3 * i) + 1].Result!.Value, theirs[(3 * i) + 1].Result!.Value);
            Assert.Equal(vResults.GetProperty("app_hash").GetString(), fResults.GetProperty("app_hash").GetString());
            Assert.Equal(vResults.GetProperty("txs_results").ToString(), fResults.GetProperty("txs_results").ToString());
            Assert.Equal(mine[(3 * i) + 2].Result!.Value.ToString(), theirs[(3 * i) + 2].Result!.Value.ToString());
        }
        var vStatus = (await validator.Rpc.StatusAsync()).GetProperty("sync_info");
        var fStatusAll = await follower.Rpc.StatusAsync();
        var fStatus = fStatusAll.GetProperty("sync_info");
        Assert.Equal(vStatus.GetProperty("latest_block_hash").GetString(), fStatus.GetProperty("latest_block_hash").GetString());
        Assert.Equal(vStatus.GetProperty("latest_app_hash").GetString(), fStatus.GetProperty("latest_app_hash").GetString());
        Assert.Equal("0", fStatusAll.GetProperty("validator_info").GetProperty("voting_power").GetString());

        // The follower serves every tx at the validator's height, and the same state.
        var onValidator = await validator.Rpc.FindTxsAsync(committed.Select(t => t.Hash));
        var onFollower = await follower.Rpc.FindTxsAsync(committed.Select(t => t.Hash));
        foreach (var tx in committed)
        {
            var v = onValidator[tx.Hash] ?? throw new Xunit.Sdk.XunitException($"validator lacks {tx.Hash}");
            var f = onFollower[tx.Hash] ?? throw new Xunit.Sdk.XunitException($"follower lacks {tx.Hash}");
            Assert.Equal(v.ToString(), f.ToString());
        }
        foreach (var address in net.Funded.Select(w => w.Address.Value).Append(recipient.Value))
        {
            Assert.Equal(await validator.Rpc.AccountAsync(address), await follower.Rpc.AccountAsync(address));
        }
        Assert.Equal(await validator.Rpc.SupplyAsync(), await follower.Rpc.SupplyAsync());

        await Poll.UntilAsync(async () =>
        {
            using var ready = await follower.Rpc.Http.GetAsync("readyz");
            using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            return ready.StatusCode == HttpStatusCode.OK && !body.RootElement.GetProperty("catching_up").GetBoolean();
        }, TimeSpan.FromSeconds(10), "the follower to report ready and caught up");
        Assert.False((await follower.Rpc.StatusAsync()).GetProperty("sync_info").GetProperty("catching_up").GetBoolean());
    }

    /// <summary>kill -9 of the follower, then of the validator (restarted on the same port): the follower resumes each time.</summary>
    [Fact]
    public async Task Follower_resumes_after_kill_9_of_itself_and_of_the_validator()
    {
        await using var net = await TestNet.CreateAsync("follow-kill", fundedWallets: 1);
        var validator = await net.StartValidatorAsync();
        var recipient = net.NewWallet("follow-kill-recipient").Address;
        var sender = net.Funded[0];
        for (var i = 0; i < 3; i++)
        {
            await validator.Rpc.CommitOkAsync(sender.Transfer(recipient, 1));
        }
        var follower = await net.StartFollowerAsync(validator.Url);
        await AssertSameTipAsync(validator, follower);

        // The follower dies; the chain moves on; the follower restarts on its data dir and catches up.
        await follower.KillAsync();
        for (var i = 0; i < 3; i++)
        {
            await validator.Rpc.CommitOkAsync(sender.Transfer(recipient, 2));
        }
        follower = await net.StartFollowerAsync(validator.Url);
        await AssertSameTipAsync(validator, follower);

        // The validator dies and comes back on the same port; the follower, which kept polling, picks up the new blocks.
        var port = validator.Port;
        await validator.KillAsync();
        Assert.False(follower.HasExited);
        validator = await net.StartValidatorAsync(port);
        for (var i = 0; i < 3; i++)
        {
            await validator.Rpc.CommitOkAsync(sender.Transfer(recipient, 3));
        }
        await AssertSameTipAsync(validator, follower);
        Assert.Equal(await validator.Rpc.AccountAsync(recipient.Value), await follower.Rpc.AccountAsync(recipient.Value));
        Assert.Equal(18UL, (await follower.Rpc.AccountAsync(recipient.Value)).Balance);
    }

    private static async Task AssertSameTipAsync(NodeProcess validator, NodeProcess follower)
    {
        var height = await validator.Rpc.HeightAsync();
        await Poll.UntilAsync(async () => await follower.Rpc.HeightAsync() == height, TimeSpan.FromSeconds(30), $"the follower to reach height {height}");
        var v = (await validator.Rpc.StatusAsync()).GetProperty("sync_info");
        var f = (await follower.Rpc.StatusAsync()).GetProperty("sync_info");
        Assert.Equal(v.GetProperty("latest_block_hash").GetString(), f.GetProperty("latest_block_hash").GetString());
        Assert.Equal(v.GetProperty("latest_app_hash").GetString(), f.GetProperty("latest_app_hash").GetString());
    }
}
