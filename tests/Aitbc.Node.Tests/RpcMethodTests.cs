using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Aitbc.Core;
using Aitbc.Core.Transactions;
using Aitbc.Node.Tests.Infrastructure;

namespace Aitbc.Node.Tests;

/// <summary>Every method of docs/protocol.md's Node RPC, by POST and by GET, against a real node process, in CometBFT v0.38 shapes.</summary>
[Collection(RpcNodeCollection.Name)]
public sealed partial class RpcMethodTests(RpcNodeFixture fixture)
{
    private RpcClient Rpc => fixture.Rpc;

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex("^[0-9A-F]{64}$")]
    private static partial Regex UpperHash();

    [GeneratedRegex("^[0-9A-F]{40}$")]
    private static partial Regex UpperAddress();

    [GeneratedRegex("^[0-9]+$")]
    private static partial Regex IntString();

    private static void AssertHash(JsonElement element) => Assert.Matches(UpperHash(), element.GetString()!);

    private static void AssertIntString(JsonElement element)
    {
        Assert.Equal(JsonValueKind.String, element.ValueKind);
        Assert.Matches(IntString(), element.GetString()!);
    }

    /// <summary>POST and GET give the same result shape (same property names, recursively).</summary>
    private async Task<(JsonElement Post, JsonElement Get)> BothAsync(string method, JsonObject postParams, params (string, string)[] getQuery)
    {
        var post = await Rpc.CallAsync(method, postParams);
        var get = await Rpc.GetResultAsync(method, getQuery);
        AssertSameShape(method, post, get);
        return (post, get);
    }

    private static void AssertSameShape(string path, JsonElement a, JsonElement b)
    {
        Assert.True(a.ValueKind == b.ValueKind || a.ValueKind == JsonValueKind.Null || b.ValueKind == JsonValueKind.Null,
            $"{path}: {a.ValueKind} by POST, {b.ValueKind} by GET");
        if (a.ValueKind == JsonValueKind.Object && b.ValueKind == JsonValueKind.Object)
        {
            var names = a.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(names, b.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray());
            foreach (var name in names)
            {
                AssertSameShape($"{path}.{name}", a.GetProperty(name), b.GetProperty(name));
            }
        }
        else if (a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0 && b.GetArrayLength() > 0)
        {
            AssertSameShape($"{path}[0]", a[0], b[0]);
        }
    }

    [Fact]
    public async Task Health_answers_an_empty_object()
    {
        var (post, get) = await BothAsync("health", []);
        Assert.Equal(JsonValueKind.Object, post.ValueKind);
        Assert.Empty(post.EnumerateObject());
        Assert.Empty(get.EnumerateObject());
    }

    [Fact]
    public async Task Status_has_cometbft_0_38_shape()
    {
        var (status, _) = await BothAsync("status", []);
        var nodeInfo = status.GetProperty("node_info");
        Assert.StartsWith("0.38.", nodeInfo.GetProperty("version").GetString());
        Assert.Equal(fixture.Net.ChainId, nodeInfo.GetProperty("network").GetString());
        Assert.Matches("^[0-9a-f]+$", nodeInfo.GetProperty("id").GetString()!);
        Assert.NotEmpty(nodeInfo.GetProperty("listen_addr").GetString()!);
        Assert.NotEmpty(nodeInfo.GetProperty("moniker").GetString()!);
        foreach (var part in new[] { "p2p", "block", "app" })
        {
            AssertIntString(nodeInfo.GetProperty("protocol_version").GetProperty(part));
        }
        Assert.All(nodeInfo.GetProperty("other").EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));
        var sync = status.GetProperty("sync_info");
        AssertHash(sync.GetProperty("latest_block_hash"));
        AssertHash(sync.GetProperty("latest_app_hash"));
        AssertIntString(sync.GetProperty("latest_block_height"));
        Assert.True(long.Parse(sync.GetProperty("latest_block_height").GetString()!, CultureInfo.InvariantCulture) >= 6);
        Assert.True(DateTimeOffset.TryParse(sync.GetProperty("latest_block_time").GetString(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        Assert.Equal(JsonValueKind.False, sync.GetProperty("catching_up").ValueKind);
        Assert.Equal("1", sync.GetProperty("earliest_block_height").GetString());
        var validator = status.GetProperty("validator_info");
        Assert.Matches(UpperAddress(), validator.GetProperty("address").GetString()!);
        Assert.Equal("tendermint/PubKeyEd25519", validator.GetProperty("pub_key").GetProperty("type").GetString());
        Assert.Equal(32, Convert.FromBase64String(validator.GetProperty("pub_key").GetProperty("value").GetString()!).Length);
        Assert.Equal("10", validator.GetProperty("voting_power").GetString());
    }

    [Fact]
    public async Task Genesis_carries_the_chain_and_its_app_state()
    {
        var (post, _) = await BothAsync("genesis", []);
        var genesis = post.GetProperty("genesis");
        Assert.Equal(fixture.Net.ChainId, genesis.GetProperty("chain_id").GetString());
        Assert.Equal("1", genesis.GetProperty("initial_height").GetString());
        AssertIntString(genesis.GetProperty("consensus_params").GetProperty("block").GetProperty("max_bytes"));
        Assert.Single(genesis.GetProperty("validators").EnumerateArray());
        Assert.Equal("10", genesis.GetProperty("validators")[0].GetProperty("power").GetString());
        var appState = genesis.GetProperty("app_state");
        Assert.Equal(fixture.Net.ChainId, appState.GetProperty("chain_id").GetString());
        Assert.Equal(fixture.Net.Funded.Count, appState.GetProperty("allocations").GetArrayLength());
    }

    [Fact]
    public async Task Validators_lists_the_single_validator()
    {
        var (post, _) = await BothAsync("validators", new JsonObject { ["height"] = "1" }, ("height", "1"));
        Assert.Equal("1", post.GetProperty("block_height").GetString());
        Assert.Equal("1", post.GetProperty("count").GetString());
        Assert.Equal("1", post.GetProperty("total").GetString());
        var validator = Assert.Single(post.GetProperty("validators").EnumerateArray());
        Assert.Matches(UpperAddress(), validator.GetProperty("address").GetString()!);
        Assert.Equal("10", validator.GetProperty("voting_power").GetString());
        AssertIntString(validator.GetProperty("proposer_priority"));
        var latest = await Rpc.CallAsync("validators");
        AssertIntString(latest.GetProperty("block_height"));
    }

    [Fact]
    public async Task Net_info_reports_no_peers()
    {
        var (post, _) = await BothAsync("net_info", []);
        Assert.True(post.GetProperty("listening").GetBoolean());
        Assert.Equal("0", post.GetProperty("n_peers").GetString());
        Assert.Empty(post.GetProperty("peers").EnumerateArray());
        Assert.NotEmpty(post.GetProperty("listeners").EnumerateArray());
    }

    [Fact]
    public async Task Abci_info_reports_the_last_block()
    {
        var (post, _) = await BothAsync("abci_info", []);
        var response = post.GetProperty("response");
        AssertIntString(response.GetProperty("last_block_height"));
        Assert.Equal(32, Convert.FromBase64String(response.GetProperty("last_block_app_hash").GetString()!).Length);
        Assert.NotEmpty(response.GetProperty("data").GetString()!);
    }

    [Fact]
    public async Task Abci_query_account_shows_balance_nonce_allowances_and_stake()
    {
        var client = fixture.Client.Address.Value;
        var (post, get) = await BothAsync("abci_query", new JsonObject { ["path"] = $"/account/{client}", ["data"] = "" },
            ("path", $"\"/account/{client}\""));
        Assert.Equal(post.GetProperty("response").GetProperty("value").GetString(), get.GetProperty("response").GetProperty("value").GetString());
        var response = post.GetProperty("response");
        Assert.Equal(0, response.GetProperty("code").GetInt32());
        AssertIntString(response.GetProperty("height"));
        var account = await Rpc.QueryValueAsync($"/account/{client}");
        Assert.Equal(client, account.GetProperty("address").GetString());
        Assert.Equal(Str((long)(TestNet.FundedMicro - RpcNodeFixture.JobMax + (RpcNodeFixture.JobMax - RpcNodeFixture.AmountPaid))), account.GetProperty("balance").GetString());
        Assert.Equal(1UL, account.GetProperty("nonce").GetUInt64());
        Assert.Equal(Str(50_000_000 - (long)RpcNodeFixture.JobMax), account.GetProperty("allowances").GetProperty(fixture.Net.Coordinator.Address.Value).GetString());
        Assert.Equal("0", account.GetProperty("stake").GetString());
        Assert.Equal("0", account.GetProperty("unbonding").GetString());

        var miner = await Rpc.AccountAsync(fixture.Miner.Address.Value);
        Assert.Equal(RpcNodeFixture.MinerStake, miner.Stake);
        Assert.Equal(TestNet.FundedMicro - RpcNodeFixture.MinerStake + RpcNodeFixture.AmountPaid, miner.Balance);

        // An address nobody has used is an empty account, not an error; a malformed one is a readable refusal.
        var nobody = await Rpc.AccountAsync(fixture.Net.NewWallet("rpc-nobody").Address.Value);
        Assert.Equal(0UL, nobody.Balance);
        var bad = await Rpc.QueryAsync("/account/not-an-address");
        Assert.NotEqual(0, bad.GetProperty("code").GetInt32());
        Assert.Contains("not-an-address", bad.GetProperty("log").GetString());
    }

    [Fact]
    public async Task Abci_query_shows_an_unstaking_miners_stake_as_unbonding_not_bonded()
    {
        var wallet = fixture.Spare(3);
        var before = await Rpc.AccountAsync(wallet.Address.Value);
        await Rpc.CommitOkAsync(wallet.Sign(new RegisterMinerBody(new Amount(5_000_000)), before.Nonce + 1));

        await Rpc.CommitOkAsync(wallet.Sign(new UnstakeBody(new Amount(2_000_000)), before.Nonce + 2));

        var account = await Rpc.QueryValueAsync($"/account/{wallet.Address.Value}");
        Assert.Equal("3000000", account.GetProperty("stake").GetString());
        Assert.Equal("2000000", account.GetProperty("unbonding").GetString());
        Assert.Equal(Str((long)(before.Balance - 5_000_000)), account.GetProperty("balance").GetString());
        var miner = await Rpc.QueryValueAsync($"/miner/{wallet.Address.Value}");
        Assert.Equal("3000000", miner.GetProperty("stake").GetString());
        var entry = Assert.Single(miner.GetProperty("unbonding").EnumerateArray().ToList());
        Assert.Equal("2000000", entry.GetProperty("amount").GetString());
        Assert.EndsWith("Z", entry.GetProperty("release_at").GetString(), StringComparison.Ordinal);
        var (total, counted) = await Rpc.SupplyAsync();
        Assert.Equal(total, counted);
    }

    [Fact]
    public async Task Abci_query_job_receipt_miner_and_supply()
    {
        var (job, _) = await BothAsync("abci_query", new JsonObject { ["path"] = $"/job/{RpcNodeFixture.JobId}" }, ("path", $"\"/job/{RpcNodeFixture.JobId}\""));
        Assert.Equal(0, job.GetProperty("response").GetProperty("code").GetInt32());
        var escrow = await Rpc.QueryValueAsync($"/job/{RpcNodeFixture.JobId}");
        Assert.Equal("paid", escrow.GetProperty("status").GetString());
        Assert.Equal(fixture.Client.Address.Value, escrow.GetProperty("client").GetString());

        var receipt = await Rpc.QueryValueAsync($"/receipt/{RpcNodeFixture.ReceiptId}");
        Assert.Equal(RpcNodeFixture.JobId, receipt.GetProperty("job_id").GetString());
        Assert.Equal(fixture.Miner.Address.Value, receipt.GetProperty("miner").GetString());
        Assert.Equal(Str((long)RpcNodeFixture.AmountPaid), receipt.GetProperty("amount_paid").GetString());
        var byGet = await Rpc.GetResultAsync("abci_query", ("path", $"\"/receipt/{RpcNodeFixture.ReceiptId}\""));
        Assert.Equal(0, byGet.GetProperty("response").GetProperty("code").GetInt32());

        var miner = await Rpc.QueryValueAsync($"/miner/{fixture.Miner.Address.Value}");
        Assert.Equal(Str((long)RpcNodeFixture.MinerStake), miner.GetProperty("stake").GetString());
        Assert.Equal(fixture.Miner.Key.PublicKey.Base64, miner.GetProperty("pub_key").GetString());

        var (total, counted) = await Rpc.SupplyAsync();
        Assert.Equal(fixture.Net.TotalSupply, total);
        Assert.Equal(total, counted);
        var supplyByGet = await Rpc.GetResultAsync("abci_query", ("path", "\"/supply\""));
        Assert.Equal(0, supplyByGet.GetProperty("response").GetProperty("code").GetInt32());

        // Unknown ids and paths are answered with a non-zero code and a readable log, not an RPC error.
        foreach (var path in new[] { "/job/no-such-job", "/receipt/no-such-receipt", $"/miner/{fixture.Client.Address.Value}", "/nonsense" })
        {
            var response = await Rpc.QueryAsync(path);
            Assert.NotEqual(0, response.GetProperty("code").GetInt32());
            Assert.False(string.IsNullOrWhiteSpace(response.GetProperty("log").GetString()), path);
            Assert.Equal(JsonValueKind.Null, response.GetProperty("value").ValueKind);
        }
    }

    [Fact]
    public async Task Block_by_height_and_latest()
    {
        var height = fixture.SeedHeight;
        var (post, _) = await BothAsync("block", new JsonObject { ["height"] = Str(height) }, ("height", Str(height)));
        AssertHash(post.GetProperty("block_id").GetProperty("hash"));
        Assert.Equal(1, post.GetProperty("block_id").GetProperty("parts").GetProperty("total").GetInt32());
        var block = post.GetProperty("block");
        var header = block.GetProperty("header");
        Assert.Equal(Str(height), header.GetProperty("height").GetString());
        Assert.Equal(fixture.Net.ChainId, header.GetProperty("chain_id").GetString());
        AssertHash(header.GetProperty("data_hash"));
        AssertHash(header.GetProperty("app_hash"));
        AssertHash(header.GetProperty("last_block_id").GetProperty("hash"));
        Assert.Matches(UpperAddress(), header.GetProperty("proposer_address").GetString()!);
        Assert.Equal(JsonValueKind.Object, block.GetProperty("last_commit").GetProperty("block_id").ValueKind);
        var txs = block.GetProperty("data").GetProperty("txs").EnumerateArray().Select(t => t.GetString()).ToList();
        Assert.Contains(Convert.ToBase64String(fixture.SeedTx.WireBytes), txs);

        var status = await Rpc.StatusAsync();
        var latest = await Rpc.CallAsync("block");
        var latestByGet = await Rpc.GetResultAsync("block");
        var tipHeight = latest.GetProperty("block").GetProperty("header").GetProperty("height").GetString();
        Assert.True(long.Parse(tipHeight!, CultureInfo.InvariantCulture) >= long.Parse(status.GetProperty("sync_info").GetProperty("latest_block_height").GetString()!, CultureInfo.InvariantCulture));
        AssertSameShape("block(latest)", latest, latestByGet);

        // The next block links to this one; its last_commit signs this block.
        var next = await Rpc.CallAsync("block", new JsonObject { ["height"] = Str(height + 1) });
        Assert.Equal(post.GetProperty("block_id").GetProperty("hash").GetString(),
            next.GetProperty("block").GetProperty("header").GetProperty("last_block_id").GetProperty("hash").GetString());
        Assert.Equal(post.GetProperty("block_id").GetProperty("hash").GetString(),
            next.GetProperty("block").GetProperty("last_commit").GetProperty("block_id").GetProperty("hash").GetString());
    }

    [Fact]
    public async Task Block_results_header_and_commit_agree_with_block()
    {
        var height = Str(fixture.SeedHeight);
        var block = await Rpc.CallAsync("block", new JsonObject { ["height"] = height });
        var blockHash = block.GetProperty("block_id").GetProperty("hash").GetString();

        var (results, _) = await BothAsync("block_results", new JsonObject { ["height"] = height }, ("height", height));
        Assert.Equal(height, results.GetProperty("height").GetString());
        var txResult = Assert.Single(results.GetProperty("txs_results").EnumerateArray());
        Assert.Equal(JsonValueKind.Number, txResult.GetProperty("code").ValueKind);
        Assert.Equal(0, txResult.GetProperty("code").GetInt32());
        Assert.Equal("transfer", txResult.GetProperty("events")[0].GetProperty("type").GetString());
        AssertHash(results.GetProperty("app_hash"));

        var (header, _) = await BothAsync("header", new JsonObject { ["height"] = height }, ("height", height));
        Assert.Equal(block.GetProperty("block").GetProperty("header").ToString(), header.GetProperty("header").ToString());

        var (commit, _) = await BothAsync("commit", new JsonObject { ["height"] = height }, ("height", height));
        Assert.True(commit.GetProperty("canonical").GetBoolean());
        Assert.Equal(block.GetProperty("block").GetProperty("header").ToString(), commit.GetProperty("signed_header").GetProperty("header").ToString());
        var signedCommit = commit.GetProperty("signed_header").GetProperty("commit");
        Assert.Equal(blockHash, signedCommit.GetProperty("block_id").GetProperty("hash").GetString());
        Assert.Equal(height, signedCommit.GetProperty("height").GetString());
        var signature = Assert.Single(signedCommit.GetProperty("signatures").EnumerateArray());
        Assert.Equal(2, signature.GetProperty("block_id_flag").GetInt32());
        Assert.Equal(64, Convert.FromBase64String(signature.GetProperty("signature").GetString()!).Length);

        // The next block's header commits to the state after this block.
        var next = await Rpc.CallAsync("header", new JsonObject { ["height"] = Str(fixture.SeedHeight + 1) });
        Assert.Equal(results.GetProperty("app_hash").GetString(), next.GetProperty("header").GetProperty("app_hash").GetString());
    }

    [Fact]
    public async Task Blockchain_lists_block_metas_newest_first_in_range()
    {
        var (post, _) = await BothAsync("blockchain", new JsonObject { ["minHeight"] = "1", ["maxHeight"] = "3" }, ("minHeight", "1"), ("maxHeight", "3"));
        AssertIntString(post.GetProperty("last_height"));
        var metas = post.GetProperty("block_metas").EnumerateArray().ToList();
        Assert.Equal(3, metas.Count);
        foreach (var meta in metas)
        {
            AssertHash(meta.GetProperty("block_id").GetProperty("hash"));
            AssertIntString(meta.GetProperty("num_txs"));
            AssertIntString(meta.GetProperty("header").GetProperty("height"));
        }
        var heights = metas.Select(m => m.GetProperty("header").GetProperty("height").GetString()).ToHashSet();
        Assert.Equal(new HashSet<string?> { "1", "2", "3" }, heights);
        var all = await Rpc.CallAsync("blockchain");
        Assert.NotEmpty(all.GetProperty("block_metas").EnumerateArray());
    }

    [Fact]
    public async Task Tx_is_found_by_hex_base64_and_0x_hash()
    {
        var tx = fixture.SeedTx;
        var byHex = await Rpc.CallAsync("tx", new JsonObject { ["hash"] = tx.Hash });
        var byLowerHex = await Rpc.CallAsync("tx", new JsonObject { ["hash"] = tx.Hash.ToLowerInvariant() });
        var byBase64 = await Rpc.CallAsync("tx", new JsonObject { ["hash"] = Convert.ToBase64String(Convert.FromHexString(tx.Hash)) });
        var byGet = await Rpc.GetResultAsync("tx", ("hash", "0x" + tx.Hash));
        var byGetBase64 = await Rpc.GetResultAsync("tx", ("hash", Convert.ToBase64String(Convert.FromHexString(tx.Hash))));
        foreach (var answer in new[] { byLowerHex, byBase64, byGet, byGetBase64 })
        {
            Assert.Equal(byHex.ToString(), answer.ToString());
        }
        Assert.Equal(tx.Hash, byHex.GetProperty("hash").GetString());
        Assert.Equal(Str(fixture.SeedHeight), byHex.GetProperty("height").GetString());
        Assert.Equal(JsonValueKind.Number, byHex.GetProperty("index").ValueKind);
        Assert.Equal(0, byHex.GetProperty("tx_result").GetProperty("code").GetInt32());
        Assert.Equal(Convert.ToBase64String(tx.WireBytes), byHex.GetProperty("tx").GetString());

        var missing = await Assert.ThrowsAsync<RpcCallException>(() => Rpc.CallAsync("tx", new JsonObject { ["hash"] = new string('A', 64) }));
        Assert.Contains("not found", missing.Detail);
    }

    [Fact]
    public async Task Tx_search_by_sender_and_by_height()
    {
        var sender = fixture.Net.Funded[0].Address.Value;
        var (bySender, _) = await BothAsync("tx_search", new JsonObject { ["query"] = $"transfer.sender='{sender}'" },
            ("query", $"\"transfer.sender='{sender}'\""));
        Assert.Equal("2", bySender.GetProperty("total_count").GetString());
        var txs = bySender.GetProperty("txs").EnumerateArray().ToList();
        Assert.Equal(2, txs.Count);
        Assert.Contains(txs, t => t.GetProperty("hash").GetString() == fixture.SeedTx.Hash);
        Assert.All(txs, t => Assert.Equal(JsonValueKind.Number, t.GetProperty("index").ValueKind));

        var (byHeight, _) = await BothAsync("tx_search", new JsonObject { ["query"] = $"tx.height={fixture.SeedHeight}" },
            ("query", $"\"tx.height={fixture.SeedHeight}\""));
        var found = Assert.Single(byHeight.GetProperty("txs").EnumerateArray());
        Assert.Equal(fixture.SeedTx.Hash, found.GetProperty("hash").GetString());
        Assert.Equal(Str(fixture.SeedHeight), found.GetProperty("height").GetString());

        var byRecipient = await Rpc.CallAsync("tx_search", new JsonObject
        {
            ["query"] = $"transfer.recipient='{fixture.Net.Funded[1].Address.Value}' AND transfer.sender='{sender}' AND tx.height>=1",
            ["order_by"] = "desc",
            ["per_page"] = "1",
        });
        Assert.Equal("2", byRecipient.GetProperty("total_count").GetString());
        Assert.Single(byRecipient.GetProperty("txs").EnumerateArray());

        var none = await Rpc.CallAsync("tx_search", new JsonObject { ["query"] = "transfer.sender='aitbc1nobody'" });
        Assert.Equal("0", none.GetProperty("total_count").GetString());
        Assert.Empty(none.GetProperty("txs").EnumerateArray());
    }

    [Fact]
    public async Task Check_tx_validates_without_admitting()
    {
        var wallet = fixture.Spare(0);
        var tx = wallet.Transfer(fixture.Net.Funded[1].Address, 1);
        var (post, get) = await BothAsync("check_tx", new JsonObject { ["tx"] = Convert.ToBase64String(tx.WireBytes) },
            ("tx", "0x" + Convert.ToHexString(tx.WireBytes)));
        Assert.Equal(0, post.GetProperty("code").GetInt32());
        Assert.Equal(0, get.GetProperty("code").GetInt32());
        Assert.Equal(0UL, (await Rpc.AccountAsync(wallet.Address.Value)).Nonce);
        Assert.Null(await Rpc.FindTxAsync(tx.Hash));

        // Checked twice and still not in the mempool: it can be committed now.
        var height = await Rpc.CommitOkAsync(tx);
        Assert.True(height > 0);
        var again = await Rpc.CallAsync("check_tx", new JsonObject { ["tx"] = Convert.ToBase64String(tx.WireBytes) });
        Assert.Equal(4, again.GetProperty("code").GetInt32()); // bad nonce: it is spent
        Assert.Contains("nonce", again.GetProperty("log").GetString());
    }

    [Fact]
    public async Task Unconfirmed_txs_and_num_unconfirmed_txs()
    {
        var (unconfirmed, _) = await BothAsync("unconfirmed_txs", new JsonObject { ["limit"] = "10" }, ("limit", "10"));
        AssertIntString(unconfirmed.GetProperty("n_txs"));
        AssertIntString(unconfirmed.GetProperty("total"));
        AssertIntString(unconfirmed.GetProperty("total_bytes"));
        Assert.Equal(JsonValueKind.Array, unconfirmed.GetProperty("txs").ValueKind);
        var (count, _) = await BothAsync("num_unconfirmed_txs", []);
        AssertIntString(count.GetProperty("n_txs"));
        AssertIntString(count.GetProperty("total"));
        AssertIntString(count.GetProperty("total_bytes"));
    }

    [Fact]
    public async Task Broadcast_sync_async_and_commit_by_post_and_get()
    {
        var wallet = fixture.Spare(1);
        var to = fixture.Net.Funded[1].Address;
        var txs = Enumerable.Range(0, 6).Select(i => wallet.Transfer(to, 10 + (ulong)i)).ToList();

        var sync = await Rpc.CallAsync("broadcast_tx_sync", new JsonObject { ["tx"] = Convert.ToBase64String(txs[0].WireBytes) });
        AssertBroadcastOk(sync, txs[0].Hash);
        var syncGet = await Rpc.GetResultAsync("broadcast_tx_sync", ("tx", "0x" + Convert.ToHexString(txs[1].WireBytes)));
        AssertBroadcastOk(syncGet, txs[1].Hash);
        AssertSameShape("broadcast_tx_sync", sync, syncGet);

        var async = await Rpc.CallAsync("broadcast_tx_async", new JsonObject { ["tx"] = Convert.ToBase64String(txs[2].WireBytes) });
        AssertBroadcastOk(async, txs[2].Hash);
        var asyncGet = await Rpc.GetResultAsync("broadcast_tx_async", ("tx", Convert.ToBase64String(txs[3].WireBytes)));
        AssertBroadcastOk(asyncGet, txs[3].Hash);

        var commit = await Rpc.CallAsync("broadcast_tx_commit", new JsonObject { ["tx"] = Convert.ToBase64String(txs[4].WireBytes) });
        var commitGet = await Rpc.GetResultAsync("broadcast_tx_commit", ("tx", "0x" + Convert.ToHexString(txs[5].WireBytes)));
        AssertSameShape("broadcast_tx_commit", commit, commitGet);
        foreach (var (answer, tx) in new[] { (commit, txs[4]), (commitGet, txs[5]) })
        {
            Assert.Equal(tx.Hash, answer.GetProperty("hash").GetString());
            Assert.Equal(0, answer.GetProperty("check_tx").GetProperty("code").GetInt32());
            Assert.Equal(0, answer.GetProperty("tx_result").GetProperty("code").GetInt32());
            AssertIntString(answer.GetProperty("height"));
        }

        // All six were committed, in nonce order, and are served by tx at the heights broadcast_tx_commit named.
        var lastHeight = long.Parse(commitGet.GetProperty("height").GetString()!, CultureInfo.InvariantCulture);
        long previous = 0;
        foreach (var tx in txs)
        {
            var found = await Rpc.FindTxAsync(tx.Hash) ?? throw new Xunit.Sdk.XunitException($"tx {tx.Hash} not committed");
            var height = long.Parse(found.GetProperty("height").GetString()!, CultureInfo.InvariantCulture);
            Assert.InRange(height, previous, lastHeight);
            previous = height;
        }
        Assert.Equal(6UL, (await Rpc.AccountAsync(wallet.Address.Value)).Nonce);
    }

    private static void AssertBroadcastOk(JsonElement answer, string hash)
    {
        Assert.Equal(JsonValueKind.Number, answer.GetProperty("code").ValueKind);
        Assert.True(answer.GetProperty("code").GetInt32() == 0, answer.ToString());
        Assert.Equal(hash, answer.GetProperty("hash").GetString());
        Assert.Equal("", answer.GetProperty("data").GetString());
    }

    [Fact]
    public async Task Committed_transfer_moves_balances_and_rejected_ones_change_nothing()
    {
        var sender = fixture.Spare(2);
        var recipient = fixture.Net.NewWallet("rpc-recipient");
        var senderBefore = await Rpc.AccountAsync(sender.Address.Value);
        var (supplyBefore, _) = await Rpc.SupplyAsync();

        var tx = sender.Transfer(recipient.Address, 123_456_789);
        var result = await Rpc.BroadcastCommitAsync(tx);
        Assert.Equal(0, result.GetProperty("tx_result").GetProperty("code").GetInt32());
        var height = RpcClient.ParseLong(result.GetProperty("height"));
        var found = await Rpc.FindTxAsync(tx.Hash) ?? throw new Xunit.Sdk.XunitException("committed tx not found");
        Assert.Equal(Str(height), found.GetProperty("height").GetString());
        var events = found.GetProperty("tx_result").GetProperty("events")[0];
        Assert.Equal("transfer", events.GetProperty("type").GetString());
        Assert.Contains(events.GetProperty("attributes").EnumerateArray(),
            a => a.GetProperty("key").GetString() == "recipient" && a.GetProperty("value").GetString() == recipient.Address.Value);

        var senderAfter = await Rpc.AccountAsync(sender.Address.Value);
        var recipientAfter = await Rpc.AccountAsync(recipient.Address.Value);
        Assert.Equal(senderBefore.Balance - 123_456_789, senderAfter.Balance);
        Assert.Equal(senderBefore.Nonce + 1, senderAfter.Nonce);
        Assert.Equal(123_456_789UL, recipientAfter.Balance);

        // Insufficient funds: the recipient holds 123.456789 AITBC and tries to send more.
        var tooMuch = recipient.Transfer(sender.Address, 200_000_000);
        var refused = await Rpc.BroadcastCommitAsync(tooMuch);
        var check = refused.GetProperty("check_tx");
        Assert.Equal(5, check.GetProperty("code").GetInt32());
        Assert.Contains("insufficient funds", check.GetProperty("log").GetString());
        Assert.Equal("aitbc", check.GetProperty("codespace").GetString());
        Assert.Null(await Rpc.FindTxAsync(tooMuch.Hash));

        // Bad nonce: a reused nonce and one from the future, by broadcast_tx_commit and broadcast_tx_sync.
        var replay = sender.Transfer(recipient.Address, 1, nonce: senderAfter.Nonce);
        var replayed = await Rpc.BroadcastCommitAsync(replay);
        Assert.Equal(4, replayed.GetProperty("check_tx").GetProperty("code").GetInt32());
        Assert.Contains($"expected {senderAfter.Nonce + 1}", replayed.GetProperty("check_tx").GetProperty("log").GetString());
        var future = sender.Transfer(recipient.Address, 1, nonce: senderAfter.Nonce + 5);
        var early = await Rpc.BroadcastSyncAsync(future);
        Assert.Equal(4, early.GetProperty("code").GetInt32());
        Assert.Contains("nonce", early.GetProperty("log").GetString());
        Assert.Equal(future.Hash, early.GetProperty("hash").GetString());

        // Not a transaction at all, and signed for another chain.
        var garbage = await Rpc.CallAsync("broadcast_tx_sync", new JsonObject { ["tx"] = Convert.ToBase64String("{\"hello\":1}"u8.ToArray()) });
        Assert.Equal(1, garbage.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(garbage.GetProperty("log").GetString()));
        using var otherChain = new Wallet(sender.Name, "some-other-chain");
        var wrongChain = await Rpc.BroadcastSyncAsync(otherChain.Transfer(recipient.Address, 1, nonce: senderAfter.Nonce + 1));
        Assert.Equal(2, wrongChain.GetProperty("code").GetInt32());
        Assert.Contains("chain_id", wrongChain.GetProperty("log").GetString());

        Assert.Equal(senderAfter, await Rpc.AccountAsync(sender.Address.Value));
        Assert.Equal(recipientAfter, await Rpc.AccountAsync(recipient.Address.Value));
        var (supplyAfter, counted) = await Rpc.SupplyAsync();
        Assert.Equal(supplyBefore, supplyAfter);
        Assert.Equal(supplyAfter, counted);
    }

    [Fact]
    public async Task Get_index_lists_the_methods_of_protocol_md()
    {
        using var response = await Rpc.Http.GetAsync("");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var methods = document.RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetString()).ToHashSet();
        string[] expected =
        [
            "health", "status", "genesis", "validators", "net_info", "abci_info", "abci_query", "block", "block_results",
            "blockchain", "header", "commit", "tx", "tx_search", "broadcast_tx_sync", "broadcast_tx_async", "broadcast_tx_commit",
            "check_tx", "unconfirmed_txs", "num_unconfirmed_txs",
        ];
        Assert.All(expected, m => Assert.Contains(m, methods));
    }
}
