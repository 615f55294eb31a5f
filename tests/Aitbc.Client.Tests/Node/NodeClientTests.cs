using System.Text.Json;
using Aitbc.Client.Node;
using Aitbc.Client.Tests.Infrastructure;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Client.Tests.Node;

/// <summary>Every NodeClient read and broadcast against a real node, through TxSender for the writes.</summary>
[Collection(NodeCollection.Name)]
public sealed class NodeClientTests(NodeFixture fixture)
{
    private NodeClient Client => fixture.Client;

    private InProcessNode Net => fixture.Node;

    private TxSender Sender(Ed25519KeyPair key) => new(Client, key, Net.ChainId);

    private static void AssertCommitted(CommitResult result) =>
        Assert.True(result.IsOk, $"code {result.Code}: {result.Log}");

    [Fact]
    public async Task Status_reports_the_chain_id_tip_and_validator()
    {
        AssertCommitted(await Sender(fixture.Wallet(0)).SendAndCommitAsync(new TransferBody(fixture.Wallet(1).Address, new Amount(1))));

        var status = await Client.GetStatusAsync();

        Assert.Equal(Net.ChainId, status.ChainId);
        Assert.StartsWith("0.38.", status.Version);
        Assert.True(status.LatestBlockHeight >= 1);
        Assert.True(Hashing.IsUpperHexHash(status.LatestBlockHash), status.LatestBlockHash);
        Assert.False(status.CatchingUp);
        Assert.Equal(40, status.ValidatorAddress.Length);
        Assert.True(status.LatestBlockTime > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task Health_answers()
    {
        await Client.HealthAsync();
    }

    [Fact]
    public async Task Genesis_carries_chain_id_validator_and_app_state()
    {
        var genesis = await Client.GetGenesisAsync();

        Assert.Equal(Net.ChainId, genesis.ChainId);
        Assert.Equal(1, genesis.InitialHeight);
        Assert.Single(genesis.Validators);
        Assert.Equal(JsonValueKind.Object, genesis.AppState.ValueKind);
        var coordinators = genesis.AppState.GetProperty("coordinators").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal([Net.Coordinator.Address.Value], coordinators);
        Assert.Equal(Net.Funded.Count, genesis.AppState.GetProperty("allocations").GetArrayLength());
    }

    [Fact]
    public async Task Coordinators_are_the_addresses_genesis_names()
    {
        var coordinators = await Client.GetCoordinatorsAsync();

        Assert.Equal([.. Net.Coordinators.Select(k => k.Address)], coordinators);
    }

    [Fact]
    public async Task Validators_lists_the_genesis_validator()
    {
        var genesis = await Client.GetGenesisAsync();

        var set = await Client.GetValidatorsAsync();

        var validator = Assert.Single(set.Validators);
        Assert.Equal(1, set.Total);
        Assert.Equal(genesis.Validators[0].PubKey, validator.PubKey);
        Assert.Equal(validator.PubKey.HexAddress, validator.Address);
        Assert.True(validator.VotingPower > 0);
    }

    [Fact]
    public async Task A_transfer_committed_through_TxSender_moves_the_balance_and_bumps_the_nonce()
    {
        var from = fixture.Wallet(2);
        var to = fixture.Wallet(3).Address;
        var before = await Client.GetAccountAsync(from.Address);
        var recipientBefore = await Client.GetAccountAsync(to);
        var sender = Sender(from);

        var result = await sender.SendAndCommitAsync(new TransferBody(to, new Amount(2_500_000)));

        AssertCommitted(result);
        Assert.True(result.Height > 0);
        var after = await Client.GetAccountAsync(from.Address);
        Assert.Equal(from.Address, after.Address);
        Assert.Equal(before.Balance - new Amount(2_500_000), after.Balance);
        Assert.Equal(before.Nonce + 1, after.Nonce);
        Assert.Equal(after.NextNonce, sender.NextNonce);
        Assert.Equal(recipientBefore.Balance + new Amount(2_500_000), (await Client.GetAccountAsync(to)).Balance);
    }

    [Fact]
    public async Task An_account_the_ledger_never_saw_reads_as_empty()
    {
        using var stranger = InProcessNode.Key("never-funded");

        var account = await Client.GetAccountAsync(stranger.Address);

        Assert.Equal(Amount.Zero, account.Balance);
        Assert.Equal(0UL, account.Nonce);
        Assert.Empty(account.Allowances);
        Assert.Equal(Amount.Zero, account.Stake);
    }

    [Fact]
    public async Task An_approval_shows_in_the_owners_allowances()
    {
        var owner = fixture.Wallet(4);

        AssertCommitted(await Sender(owner).SendAndCommitAsync(new ApproveBody(Net.Coordinator.Address, new Amount(7_000_000))));

        var account = await Client.GetAccountAsync(owner.Address);
        Assert.Equal(new Amount(7_000_000), account.Allowances[Net.Coordinator.Address]);
        Assert.Equal(new Amount(7_000_000), account.AllowanceFor(Net.Coordinator.Address));
    }

    [Fact]
    public async Task A_jobs_escrow_opens_on_submit_and_a_receipt_pays_the_registered_miner()
    {
        var miner = fixture.Wallet(5);
        var client = fixture.Wallet(6);
        var coordinator = Sender(Net.Coordinator);
        var jobId = $"job-{Guid.NewGuid():N}";
        var receiptId = $"receipt-{Guid.NewGuid():N}";
        AssertCommitted(await Sender(miner).SendAndCommitAsync(new RegisterMinerBody(new Amount(50_000_000))));
        AssertCommitted(await Sender(client).SendAndCommitAsync(new ApproveBody(Net.Coordinator.Address, new Amount(20_000_000))));
        var clientBefore = (await Client.GetAccountAsync(client.Address)).Balance;
        var minerBefore = (await Client.GetAccountAsync(miner.Address)).Balance;
        var promptHash = Hashing.ContentHash("what is 2+2?");

        AssertCommitted(await coordinator.SendAndCommitAsync(new SubmitJobBody(jobId, client.Address, promptHash, new Amount(10_000_000))));

        var open = await Client.GetEscrowAsync(jobId);
        Assert.NotNull(open);
        Assert.True(open.IsOpen);
        Assert.Equal(client.Address, open.Client);
        Assert.Equal(Net.Coordinator.Address, open.Coordinator);
        Assert.Equal(new Amount(10_000_000), open.Amount);
        Assert.Null(await Client.GetReceiptAsync(receiptId));

        var resultHash = Hashing.ContentHash("4");
        var proof = new MinerProof(jobId, "tiny-llama", promptHash, resultHash, 1.5, 12);
        var paid = await coordinator.SendAndCommitAsync(new RecordReceiptBody(receiptId, jobId, miner.Address, new Amount(4_000_000),
            resultHash, proof.Sign(miner), proof.Model, promptHash, proof.ComputeTime, proof.TokensGenerated));

        AssertCommitted(paid);
        var closed = await Client.GetEscrowAsync(jobId);
        Assert.NotNull(closed);
        Assert.Equal(EscrowStatus.Paid, closed.Status);
        Assert.Equal(receiptId, closed.ReceiptId);
        Assert.Equal(new Amount(4_000_000), closed.Paid);
        var receipt = await Client.GetReceiptAsync(receiptId);
        Assert.NotNull(receipt);
        Assert.Equal(jobId, receipt.JobId);
        Assert.Equal(miner.Address, receipt.Miner);
        Assert.Equal(new Amount(4_000_000), receipt.AmountPaid);
        Assert.Equal(new Amount(6_000_000), receipt.Refunded);
        Assert.Equal(paid.Hash, receipt.TxHash);
        Assert.Equal(paid.Height, receipt.Height);
        Assert.True(proof.Verify(miner.PublicKey, receipt.MinerSignature));
        Assert.Equal(clientBefore - new Amount(4_000_000), (await Client.GetAccountAsync(client.Address)).Balance);
        Assert.Equal(minerBefore + new Amount(4_000_000), (await Client.GetAccountAsync(miner.Address)).Balance);

        var registered = await Client.GetMinerAsync(miner.Address);
        Assert.NotNull(registered);
        Assert.Equal(miner.PublicKey.Base64, registered.PubKey);
        Assert.Equal(new Amount(50_000_000), registered.Stake);
        Assert.Equal(new Amount(50_000_000), (await Client.GetAccountAsync(miner.Address)).Stake);
        Assert.Contains(await Client.GetMinersAsync(), m => m.Address == miner.Address);
    }

    [Fact]
    public async Task Absent_escrow_receipt_and_miner_read_as_null()
    {
        using var stranger = InProcessNode.Key("never-registered");

        Assert.Null(await Client.GetEscrowAsync("no-such-job"));
        Assert.Null(await Client.GetReceiptAsync("no-such-receipt"));
        Assert.Null(await Client.GetMinerAsync(stranger.Address));
    }

    [Fact]
    public async Task Supply_matches_genesis()
    {
        var supply = await Client.GetSupplyAsync();

        Assert.Equal(Net.TotalSupply, supply.TotalSupply);
        Assert.True(supply.IsBalanced);
    }

    [Fact]
    public async Task A_committed_tx_is_found_by_hash_and_an_unknown_hash_is_null()
    {
        var from = fixture.Wallet(7);
        var committed = await Sender(from).SendAndCommitAsync(new TransferBody(fixture.Wallet(8).Address, new Amount(3)));
        AssertCommitted(committed);

        var tx = await Client.GetTxAsync(committed.Hash);
        var unknown = await Client.GetTxAsync(new string('A', 64));

        Assert.NotNull(tx);
        Assert.Equal(committed.Hash, tx.Hash);
        Assert.Equal(committed.Height, tx.Height);
        Assert.True(tx.Result.IsOk);
        var transfer = Assert.Single(tx.Result.Events);
        Assert.Equal(TxType.Transfer, transfer.Type);
        Assert.Equal(from.Address.Value, transfer.Get("sender"));
        var decoded = tx.Decode();
        Assert.NotNull(decoded);
        Assert.Equal(from.Address, decoded.Sender);
        Assert.Null(unknown);
    }

    [Fact]
    public async Task Search_finds_a_senders_transfers_in_pages()
    {
        var from = fixture.Wallet(9);
        var sender = Sender(from);
        var hashes = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var result = await sender.SendAndCommitAsync(new TransferBody(fixture.Wallet(10).Address, new Amount((ulong)i + 1)));
            AssertCommitted(result);
            hashes.Add(result.Hash);
        }
        var query = $"transfer.sender='{from.Address.Value}'";

        var first = await Client.SearchTxsAsync(query, page: 1, perPage: 2);
        var second = await Client.SearchTxsAsync(query, page: 2, perPage: 2);
        var newest = await Client.SearchTxsAsync(query, perPage: 1, descending: true);

        Assert.Equal(3, first.TotalCount);
        Assert.Equal(hashes, first.Txs.Concat(second.Txs).Select(t => t.Hash));
        Assert.Equal(hashes[^1], Assert.Single(newest.Txs).Hash);
    }

    [Fact]
    public async Task Block_blockchain_and_block_results_describe_the_same_block()
    {
        var committed = await Sender(fixture.Wallet(11)).SendAndCommitAsync(new TransferBody(fixture.Wallet(12).Address, new Amount(5)));
        AssertCommitted(committed);

        var block = await Client.GetBlockAsync(committed.Height);
        var results = await Client.GetBlockResultsAsync(committed.Height);
        var chain = await Client.GetBlockchainAsync(committed.Height, committed.Height);
        var latest = await Client.GetBlockAsync();

        Assert.Equal(committed.Height, block.Header.Height);
        Assert.Equal(Net.ChainId, block.Header.ChainId);
        Assert.Equal(block.Hash, block.Header.Hash());
        var index = block.TxHashes.ToList().IndexOf(committed.Hash);
        Assert.True(index >= 0, "the committed tx is in its block");
        Assert.Equal(block.Txs.Count, results.TxsResults.Count);
        Assert.True(results.TxsResults[index].IsOk);
        Assert.Equal(committed.Height, results.Height);
        var meta = Assert.Single(chain.BlockMetas);
        Assert.Equal(block.Hash, meta.Hash);
        Assert.Equal(block.Txs.Count, meta.NumTxs);
        Assert.Equal(block.Header, meta.Header);
        Assert.True(chain.LastHeight >= committed.Height);
        Assert.True(latest.Header.Height >= committed.Height);
    }

    [Fact]
    public async Task A_height_above_the_tip_is_a_json_rpc_error()
    {
        var status = await Client.GetStatusAsync();

        var error = await Assert.ThrowsAsync<NodeRpcException>(() => Client.GetBlockAsync(status.LatestBlockHeight + 1000));

        Assert.Equal("block", error.Method);
        Assert.Equal(-32603, error.ErrorCode);
        Assert.Contains("height", error.ErrorData);
        Assert.Contains("height", error.Message);
        Assert.DoesNotContain("   at ", error.Message);
    }

    [Fact]
    public async Task Check_tx_judges_without_admitting()
    {
        var key = fixture.Wallet(13);
        var account = await Client.GetAccountAsync(key.Address);
        var body = new TransferBody(fixture.Wallet(0).Address, new Amount(1));
        var tx = new UnsignedTransaction(Net.ChainId, key.PublicKey, account.NextNonce, body).Sign(key);
        var wrongNonce = new UnsignedTransaction(Net.ChainId, key.PublicKey, account.NextNonce + 5, body).Sign(key);

        var ok = await Client.CheckTxAsync(tx.WireBytes);
        var refused = await Client.CheckTxAsync(wrongNonce.WireBytes);

        Assert.True(ok.IsOk, ok.Log);
        Assert.Equal(TxCode.BadNonce, refused.Code);
        Assert.Equal(0, (await Client.NumUnconfirmedTxsAsync()).Count);
        Assert.Null(await Client.GetTxAsync(tx.Hash));
        Assert.Equal(account.Nonce, (await Client.GetAccountAsync(key.Address)).Nonce);
    }

    [Fact]
    public async Task A_burst_of_sync_sends_uses_consecutive_nonces_and_all_commit()
    {
        var key = fixture.Wallet(14);
        var sender = Sender(key);
        var before = await Client.GetAccountAsync(key.Address);

        var results = new List<BroadcastResult>();
        for (var i = 0; i < 10; i++)
        {
            results.Add(await sender.SendAsync(new TransferBody(fixture.Wallet(0).Address, new Amount(10))));
        }

        Assert.All(results, r => Assert.True(r.IsOk, r.Log));
        Assert.Equal(before.NextNonce + 10, sender.NextNonce);
        await Poll.UntilAsync(async () => (await Client.GetAccountAsync(key.Address)).Nonce == before.Nonce + 10);
        foreach (var result in results)
        {
            Assert.NotNull(await Client.GetTxAsync(result.Hash));
        }
    }

    [Fact]
    public async Task A_batch_of_broadcasts_answers_each_in_order_and_a_refusal_leaves_a_nonce_gap()
    {
        var key = fixture.Wallet(16);
        var account = await Client.GetAccountAsync(key.Address);
        SignedTransaction Transfer(ulong nonce, Amount amount) =>
            new UnsignedTransaction(Net.ChainId, key.PublicKey, nonce, new TransferBody(fixture.Wallet(0).Address, amount)).Sign(key);
        var txs = new[]
        {
            Transfer(account.NextNonce, new Amount(10)),
            Transfer(account.NextNonce + 1, account.Balance + new Amount(1)),
            Transfer(account.NextNonce + 2, new Amount(10)),
        };

        var results = await Client.BroadcastTxSyncBatchAsync([.. txs.Select(t => t.WireBytes)]);

        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.Equal(txs.Select(t => t.Hash), results.Select(r => r.Result!.Hash));
        Assert.Equal(TxCode.Ok, results[0].Result!.Code);
        Assert.Equal(TxCode.InsufficientFunds, results[1].Result!.Code);
        // The node admits only the next nonce: the one after a refusal is refused too, and must be signed again.
        Assert.Equal(TxCode.BadNonce, results[2].Result!.Code);
        await Poll.UntilAsync(async () => (await Client.GetAccountAsync(key.Address)).Nonce == account.Nonce + 1);
    }

    [Fact]
    public async Task A_sender_whose_nonce_went_stale_reads_it_again_and_succeeds()
    {
        var key = fixture.Wallet(15);
        var stale = Sender(key);
        var other = Sender(key);
        AssertCommitted(await stale.SendAndCommitAsync(new TransferBody(fixture.Wallet(1).Address, new Amount(1))));
        // Another process spends with the same key, so the first sender's local count is now behind the chain.
        AssertCommitted(await other.SendAndCommitAsync(new TransferBody(fixture.Wallet(1).Address, new Amount(2))));

        var result = await stale.SendAndCommitAsync(new TransferBody(fixture.Wallet(1).Address, new Amount(3)));

        AssertCommitted(result);
        var account = await Client.GetAccountAsync(key.Address);
        Assert.Equal(account.NextNonce, stale.NextNonce);
    }

    [Fact]
    public async Task A_send_whose_tx_is_already_committed_is_not_paid_twice()
    {
        // Stands for a broadcast whose answer was lost after the node committed it: the retry meets BadNonce.
        var key = fixture.Wallet(1);
        var sender = Sender(key);
        AssertCommitted(await sender.SendAndCommitAsync(new TransferBody(fixture.Wallet(2).Address, new Amount(1))));
        var body = new TransferBody(fixture.Wallet(2).Address, new Amount(99));
        var landed = new UnsignedTransaction(Net.ChainId, key.PublicKey, sender.NextNonce!.Value, body).Sign(key);
        AssertCommitted(await Client.BroadcastTxCommitAsync(landed.WireBytes));
        var before = await Client.GetAccountAsync(key.Address);

        var result = await sender.SendAndCommitAsync(body);

        Assert.True(result.IsOk, result.Log);
        Assert.Equal(landed.Hash, result.Hash);
        var after = await Client.GetAccountAsync(key.Address);
        Assert.Equal(before.Balance, after.Balance);
        Assert.Equal(before.Nonce, after.Nonce);
        Assert.Equal(after.NextNonce, sender.NextNonce);
    }

    [Fact]
    public async Task A_refused_send_leaves_the_nonce_for_the_next_one()
    {
        using var poor = InProcessNode.Key("unfunded-sender");
        var sender = Sender(poor);

        var refused = await sender.SendAsync(new TransferBody(fixture.Wallet(0).Address, new Amount(1)));

        Assert.Equal(TxCode.InsufficientFunds, refused.Code);
        Assert.Equal(1UL, sender.NextNonce);
    }

    [Fact]
    public async Task The_async_broadcast_returns_the_hash_and_the_tx_commits()
    {
        var key = fixture.Wallet(3);
        var sender = await TxSender.CreateAsync(Client, key);
        var account = await Client.GetAccountAsync(key.Address);
        var tx = new UnsignedTransaction(sender.ChainId, key.PublicKey, account.NextNonce, new TransferBody(fixture.Wallet(0).Address, new Amount(1))).Sign(key);

        var result = await Client.BroadcastTxAsyncAsync(tx.WireBytes);

        Assert.Equal(tx.Hash, result.Hash);
        await Poll.UntilAsync(async () => await Client.GetTxAsync(tx.Hash) is not null);
    }

    [Fact]
    public async Task A_client_registered_with_dependency_injection_talks_to_the_node()
    {
        var services = new ServiceCollection();
        services.AddAitbcNodeClient(Net.Url, NodeFixture.QuickRetries);
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<NodeClient>();

        Assert.Equal(Net.ChainId, (await client.GetStatusAsync()).ChainId);
    }
}
