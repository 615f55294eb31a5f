using Aitbc.Chain.Blocks;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class FollowerImportTests : IDisposable
{
    private readonly TestChain _validator = TestChain.Validator();
    private readonly TestChain _follower = TestChain.Follower();

    public void Dispose()
    {
        _validator.Dispose();
        _follower.Dispose();
    }

    private async Task CommitHistoryAsync()
    {
        var v = _validator;
        await v.CommitAsync(
            v.Txs.Sign(Miner, Bodies.RegisterMiner(10_000)),
            v.Txs.Sign(Alice, Bodies.Approve(Coordinator, 90_000)));
        await v.CommitAsync(
            v.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, 20_000)),
            v.Txs.Sign(Coordinator, Bodies.SubmitJob("job-2", Alice, 20_000)),
            v.Txs.Sign(Bob, Bodies.Transfer(Alice, 1)));
        await v.CommitAsync(
            v.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 7_500)),
            v.Txs.Sign(Coordinator, Bodies.Refund("job-2")),
            v.Txs.Sign(Miner, Bodies.Unstake(2_000)));
    }

    [Fact]
    public async Task Follower_importing_the_validators_blocks_reaches_the_same_state_at_every_height()
    {
        await CommitHistoryAsync();
        var validatorStore = _validator.Chain.Store;

        for (var height = 1L; height <= _validator.Chain.Status.Height; height++)
        {
            var (block, resultAppHash) = validatorStore.GetBlock(height)!.Value;
            _follower.Chain.ImportBlock(block);

            Assert.Equal(height, _follower.Chain.Status.Height);
            Assert.Equal(block.Hash, _follower.Chain.Status.LastBlockHash);
            Assert.Equal(resultAppHash, _follower.Chain.Status.AppHash);
        }
        Assert.Equal(_validator.Chain.Status, _follower.Chain.Status);
        foreach (var key in new[] { Coordinator, Alice, Bob, Miner, OtherMiner })
        {
            Assert.Equal(_validator.Account(key).Describe(), _follower.Account(key).Describe());
        }
        Assert.Equal(_validator.Escrow("job-1"), _follower.Escrow("job-1"));
        Assert.Equal(_validator.Chain.Miners(), _follower.Chain.Miners());
        Assert.Equal(_follower.Genesis.TotalSupply, _follower.Chain.ComputeSupply());
    }

    [Fact]
    public async Task Follower_records_the_same_results_and_serves_the_same_blocks()
    {
        await CommitHistoryAsync();

        for (var height = 1L; height <= 3; height++)
        {
            _follower.Chain.ImportBlock(_validator.StoredBlock(height));
        }

        for (var height = 1L; height <= 3; height++)
        {
            Assert.Equal(_validator.StoredBlock(height).Hash, _follower.StoredBlock(height).Hash);
            Assert.Equal(
                _validator.Chain.Store.GetBlockTxs(height).Select(t => (t.Hash, t.Result.Code, t.Result.Log, t.Result.Events.Count)),
                _follower.Chain.Store.GetBlockTxs(height).Select(t => (t.Hash, t.Result.Code, t.Result.Log, t.Result.Events.Count)));
        }
    }

    [Fact]
    public async Task Follower_reopened_mid_chain_continues_importing()
    {
        await CommitHistoryAsync();
        _follower.Chain.ImportBlock(_validator.StoredBlock(1));

        _follower.Reopen();
        _follower.Chain.ImportBlock(_validator.StoredBlock(2));
        _follower.Chain.ImportBlock(_validator.StoredBlock(3));

        Assert.Equal(_validator.Chain.Status, _follower.Chain.Status);
    }

    // ---------- tampered blocks ----------

    private static string Sign(Ed25519KeyPair key, BlockHeader header) => Convert.ToBase64String(key.Sign(header.CanonicalBytes()));

    /// <summary>A block with the given header and transactions, properly signed by the real validator.</summary>
    private static Block Resigned(BlockHeader header, IReadOnlyList<byte[]> txs) => new(header, txs, Sign(Validator, header));

    private async Task<Block> FirstBlockAsync()
    {
        await CommitHistoryAsync();
        return _validator.StoredBlock(1);
    }

    /// <summary>Asserts the follower refuses the block, says why, and is left exactly as it was (and still takes the genuine block).</summary>
    private void AssertRefused(Block forged, string because, Block? genuine = null)
    {
        var status = _follower.Chain.Status;
        var accounts = new[] { Coordinator, Alice, Bob, Miner }.Select(k => _follower.Account(k).Describe()).ToList();

        var error = Assert.Throws<InvalidBlockException>(() => _follower.Chain.ImportBlock(forged));

        Assert.Contains(because, error.Message, StringComparison.Ordinal);
        Assert.Equal(status, _follower.Chain.Status);
        Assert.Equal(accounts, new[] { Coordinator, Alice, Bob, Miner }.Select(k => _follower.Account(k).Describe()));
        Assert.Null(_follower.Chain.Store.GetBlock(status.Height + 1));
        Assert.Equal(_follower.Genesis.TotalSupply, _follower.Chain.ComputeSupply());
        if (genuine is not null)
        {
            _follower.Chain.ImportBlock(genuine);
            Assert.Equal(genuine.Hash, _follower.Chain.Status.LastBlockHash);
        }
    }

    [Fact]
    public async Task Block_with_altered_transactions_is_refused_for_its_data_hash()
    {
        var genuine = await FirstBlockAsync();
        var substitute = _validator.Txs.SignWithNonce(Alice, 1, Bodies.Transfer(Alice, 1)).WireBytes;
        var forged = new Block(genuine.Header, [substitute, .. genuine.Txs.Skip(1)], genuine.Signature);

        AssertRefused(forged, "data_hash", genuine);
    }

    [Fact]
    public async Task Block_with_a_transaction_dropped_is_refused_for_its_data_hash()
    {
        var genuine = await FirstBlockAsync();
        var forged = new Block(genuine.Header, [.. genuine.Txs.Skip(1)], genuine.Signature);

        AssertRefused(forged, "data_hash", genuine);
    }

    [Fact]
    public async Task Block_with_an_altered_header_and_the_old_signature_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var later = BlockHeader.FormatTime(_validator.Time.GetUtcNow().AddHours(1));
        var forged = new Block(genuine.Header with { Time = later }, genuine.Txs, genuine.Signature);

        AssertRefused(forged, "not signed by the genesis validator", genuine);
    }

    [Fact]
    public async Task Block_signed_by_another_key_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var forged = new Block(genuine.Header, genuine.Txs, Sign(Alice, genuine.Header));

        AssertRefused(forged, "not signed by the genesis validator", genuine);
    }

    [Fact]
    public async Task Block_proposed_and_signed_by_another_key_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var header = genuine.Header with { ProposerAddress = Alice.PublicKey.HexAddress };
        var forged = new Block(header, genuine.Txs, Sign(Alice, header));

        AssertRefused(forged, "not signed by the genesis validator", genuine);
    }

    [Fact]
    public async Task Block_with_a_garbage_signature_is_refused()
    {
        var genuine = await FirstBlockAsync();

        AssertRefused(new Block(genuine.Header, genuine.Txs, "not-a-signature"), "not signed", genuine);
    }

    [Fact]
    public async Task Block_at_the_wrong_height_is_refused()
    {
        var genuine = await FirstBlockAsync();

        AssertRefused(Resigned(genuine.Header with { Height = 2 }, genuine.Txs), "expected block 1", genuine);
    }

    [Fact]
    public async Task Block_already_imported_is_refused()
    {
        var genuine = await FirstBlockAsync();
        _follower.Chain.ImportBlock(genuine);

        AssertRefused(genuine, "expected block 2", _validator.StoredBlock(2));
    }

    [Fact]
    public async Task Block_skipping_ahead_is_refused()
    {
        await FirstBlockAsync();

        AssertRefused(_validator.StoredBlock(2), "expected block 1", _validator.StoredBlock(1));
    }

    [Fact]
    public async Task Block_with_a_wrong_app_hash_is_refused_as_divergence()
    {
        var genuine = await FirstBlockAsync();
        var forged = Resigned(genuine.Header with { AppHash = new string('0', 64) }, genuine.Txs);

        AssertRefused(forged, "app_hash", genuine);
    }

    [Fact]
    public async Task Block_linking_to_another_parent_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var forged = Resigned(genuine.Header with { LastBlockHash = new string('A', 64) }, genuine.Txs);

        AssertRefused(forged, "links to", genuine);
    }

    [Fact]
    public async Task Block_for_another_chain_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var forged = Resigned(genuine.Header with { ChainId = "aitbc-other" }, genuine.Txs);

        AssertRefused(forged, "aitbc-other", genuine);
    }

    [Fact]
    public async Task Block_not_later_than_its_parent_is_refused()
    {
        var genuine = await FirstBlockAsync();
        var forged = Resigned(genuine.Header with { Time = GenesisBuilder.DefaultGenesisTime }, genuine.Txs);

        AssertRefused(forged, "time", genuine);
    }

    [Fact]
    public async Task Block_holding_an_undecodable_transaction_is_refused()
    {
        var genuine = await FirstBlockAsync();
        byte[][] txs = [[.. genuine.Txs[0]], "{\"not\":\"a tx\"}"u8.ToArray()];
        var header = genuine.Header with { DataHash = Convert.ToHexString(BlockHeader.ComputeDataHash(txs)) };

        AssertRefused(Resigned(header, txs), "undecodable", genuine);
    }

    /// <summary>A block the validator key signed (a faulty or compromised validator) over the follower's current tip.</summary>
    private Block SignedBlockOnTip(params byte[][] txs)
    {
        var status = _follower.Chain.Status;
        var header = new BlockHeader(_follower.Genesis.ChainId, status.Height + 1, BlockHeader.FormatTime(_follower.Time.GetUtcNow().AddSeconds(status.Height + 1)),
            status.LastBlockHash, Convert.ToHexString(BlockHeader.ComputeDataHash(txs)), status.AppHash, Validator.PublicKey.HexAddress);
        return Resigned(header, txs);
    }

    [Fact]
    public void Block_holding_the_same_transaction_twice_is_refused()
    {
        var tx = _follower.Txs.Sign(Alice, Bodies.Transfer(Bob, 10)).WireBytes;

        AssertRefused(SignedBlockOnTip(tx, tx), "twice");
    }

    [Fact]
    public void Block_repeating_a_transaction_committed_earlier_is_refused()
    {
        var tx = _follower.Txs.Sign(Alice, Bodies.Transfer(Bob, 10)).WireBytes;
        _follower.Chain.ImportBlock(SignedBlockOnTip(tx));

        AssertRefused(SignedBlockOnTip(tx), "already committed");
    }

    [Fact]
    public void Transaction_with_a_forged_signature_in_a_signed_block_fails_and_changes_nothing()
    {
        var forgedTx = Tamper.Edit(_follower.Txs.SignWithNonce(Bob, 1, Bodies.Transfer(Bob, 1)), json => json["body"]!["to"] = Alice.Address.Value);
        byte[][] txs = [forgedTx];
        var status = _follower.Chain.Status;
        var header = new BlockHeader(_follower.Genesis.ChainId, 1, BlockHeader.FormatTime(_follower.Time.GetUtcNow()),
            status.LastBlockHash, Convert.ToHexString(BlockHeader.ComputeDataHash(txs)), status.AppHash, Validator.PublicKey.HexAddress);

        _follower.Chain.ImportBlock(Resigned(header, txs));

        var recorded = Assert.Single(_follower.Chain.Store.GetBlockTxs(1));
        Assert.Equal(TxCode.BadSignature, recorded.Result.Code);
        Assert.Equal(1, _follower.Chain.Status.Height);
        Assert.Equal(GenesisBuilder.InitialBalance, _follower.Balance(Bob));
        Assert.Equal(GenesisBuilder.InitialBalance, _follower.Balance(Alice));
        Assert.Equal(0UL, _follower.Account(Bob).Nonce);
    }
}
