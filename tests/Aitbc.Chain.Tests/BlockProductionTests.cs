using System.Threading.Channels;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Blocks;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class BlockProductionTests : IDisposable
{
    private readonly TestChain _chain = TestChain.Validator();

    public void Dispose() => _chain.Dispose();

    [Fact]
    public async Task Block_holds_the_waiting_transactions_in_arrival_order_and_applies_them()
    {
        var t1 = _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 100));
        var t2 = _chain.SubmitNew(Bob, Bodies.Transfer(Alice, 30));
        var t3 = _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 5));

        var block = await _chain.ProduceAsync();

        Assert.Equal(1, block.Height);
        Assert.Equal([t1.Hash, t2.Hash, t3.Hash], block.Txs.Select(t => Core.Crypto.Hashing.Sha256UpperHex(t)));
        Assert.Equal(GenesisBuilder.InitialBalance - 75, _chain.Balance(Alice));
        Assert.Equal(GenesisBuilder.InitialBalance + 75, _chain.Balance(Bob));
        Assert.Equal(2UL, _chain.Account(Alice).Nonce);
        Assert.Equal(0, _chain.Chain.MempoolCount);
        Assert.Equal(0, _chain.Chain.MempoolBytes);
        Assert.All(_chain.Chain.Store.GetBlockTxs(1), t => Assert.Equal(TxCode.Ok, t.Result.Code));
    }

    [Fact]
    public async Task Block_advances_the_status_height_hash_time_and_app_hash()
    {
        var before = _chain.Chain.Status;
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 100));

        var block = await _chain.ProduceAsync();

        var after = _chain.Chain.Status;
        Assert.Equal(before.Height + 1, after.Height);
        Assert.Equal(block.Hash, after.LastBlockHash);
        Assert.Equal(block.Header.Time, after.LastBlockTime);
        Assert.NotEqual(before.AppHash, after.AppHash);
        Assert.Equal(before.GenesisHash, after.GenesisHash);
        Assert.True(Core.Crypto.Hashing.IsUpperHexHash(after.AppHash));
    }

    [Fact]
    public async Task No_block_is_made_from_an_empty_mempool()
    {
        Assert.Null(await _chain.Chain.ProduceBlockAsync(CancellationToken.None));

        await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));
        var status = _chain.Chain.Status;

        Assert.Null(await _chain.Chain.ProduceBlockAsync(CancellationToken.None));
        Assert.Equal(status, _chain.Chain.Status);
    }

    [Fact]
    public async Task Block_links_to_the_previous_block_and_the_first_to_genesis()
    {
        var genesisHash = _chain.Chain.Status.LastBlockHash;

        var b1 = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));
        var b2 = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));

        Assert.Equal(_chain.Chain.GenesisHash, genesisHash);
        Assert.Equal(genesisHash, b1.Header.LastBlockHash);
        Assert.Equal(b1.Hash, b2.Header.LastBlockHash);
        Assert.Equal(2, b2.Height);
    }

    [Fact]
    public async Task Block_data_hash_is_the_merkle_root_of_its_transactions()
    {
        var block = await _chain.CommitAsync(
            _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)),
            _chain.Txs.Sign(Bob, Bodies.Transfer(Alice, 2)),
            _chain.Txs.Sign(Miner, Bodies.RegisterMiner(3)));

        var leaves = block.Txs.Select(t => Core.Crypto.Hashing.Sha256(t)).ToList();
        Assert.Equal(Convert.ToHexString(Merkle.Root(leaves)), block.Header.DataHash);
    }

    [Fact]
    public async Task Block_app_hash_commits_to_the_state_after_the_previous_block()
    {
        var genesisAppHash = _chain.Chain.Status.AppHash;

        var b1 = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));
        var afterB1 = _chain.Chain.Status.AppHash;
        var b2 = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));

        Assert.Equal(genesisAppHash, b1.Header.AppHash);
        Assert.Equal(afterB1, b2.Header.AppHash);
        Assert.Equal(afterB1, _chain.Chain.Store.GetBlock(1)!.Value.ResultAppHash);
    }

    [Fact]
    public async Task Block_is_signed_by_the_genesis_validator()
    {
        var block = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));

        Assert.True(block.VerifySignature(_chain.Genesis.Validator));
        Assert.False(block.VerifySignature(Alice.PublicKey));
        Assert.Equal(Validator.PublicKey.HexAddress, block.Header.ProposerAddress);
        Assert.Equal(_chain.Genesis.ChainId, block.Header.ChainId);
    }

    [Fact]
    public async Task Block_time_is_the_clock_time_and_strictly_increases_even_when_the_clock_stalls()
    {
        _chain.Time.Advance(TimeSpan.FromSeconds(5));
        var now = _chain.Time.GetUtcNow();
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));
        var b1 = (await _chain.Chain.ProduceBlockAsync(CancellationToken.None))!;
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));

        var b2 = (await _chain.Chain.ProduceBlockAsync(CancellationToken.None))!;

        Assert.Equal(BlockHeader.FormatTime(now), b1.Header.Time);
        Assert.True(string.CompareOrdinal(b2.Header.Time, b1.Header.Time) > 0, $"{b2.Header.Time} is not after {b1.Header.Time}");
    }

    [Fact]
    public async Task Block_holds_at_most_max_block_txs_and_the_rest_wait_for_the_next()
    {
        using var chain = TestChain.Validator(new GenesisBuilder { MaxBlockTxs = 2 }.Build());
        var txs = new[]
        {
            chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1)),
            chain.SubmitNew(Alice, Bodies.Transfer(Bob, 2)),
            chain.SubmitNew(Alice, Bodies.Transfer(Bob, 3)),
        };

        var b1 = await chain.ProduceAsync();
        var b2 = await chain.ProduceAsync();

        Assert.Equal(2, b1.Txs.Count);
        Assert.Equal(txs[2].WireBytes, Assert.Single(b2.Txs));
        Assert.Equal(GenesisBuilder.InitialBalance - 6, chain.Balance(Alice));
    }

    [Fact]
    public async Task Block_committed_event_reports_the_block_and_each_result()
    {
        Block? seen = null;
        IReadOnlyList<TxResult>? results = null;
        _chain.Chain.BlockCommitted += (b, r) => (seen, results) = (b, r);

        var block = await _chain.CommitAsync(_chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)), _chain.Txs.Sign(Alice, Bodies.Approve(Coordinator, 9)));

        Assert.Same(block, seen);
        Assert.NotNull(results);
        Assert.Equal([TxType.Transfer, TxType.Approve], results.Select(r => Assert.Single(r.Events).Type));
    }

    [Fact]
    public async Task Supply_is_unchanged_by_a_block_of_every_kind_of_transaction()
    {
        await _chain.CommitAsync(
            _chain.Txs.Sign(Miner, Bodies.RegisterMiner(10_000)),
            _chain.Txs.Sign(Alice, Bodies.Approve(Coordinator, 50_000)),
            _chain.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, 20_000)),
            _chain.Txs.Sign(Coordinator, Bodies.SubmitJob("job-2", Alice, 20_000)));
        await _chain.CommitAsync(
            _chain.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 7_000)),
            _chain.Txs.Sign(Coordinator, Bodies.Refund("job-2")),
            _chain.Txs.Sign(Miner, Bodies.Unstake(4_000)),
            _chain.Txs.Sign(Bob, Bodies.Transfer(Alice, 3)));

        Assert.Equal(_chain.Genesis.TotalSupply, _chain.Chain.ComputeSupply());
        Assert.Equal(GenesisBuilder.InitialBalance - 7_000 + 3, _chain.Balance(Alice));
        Assert.Equal(GenesisBuilder.InitialBalance - 10_000 + 7_000, _chain.Balance(Miner));
        var miner = Assert.Single(_chain.Chain.Miners());
        Assert.Equal(6_000UL, miner.Stake.Micro);
        Assert.Equal(4_000UL, miner.UnbondingTotal.Micro);
    }

    [Fact]
    public async Task Follower_cannot_produce_blocks()
    {
        using var follower = TestChain.Follower();

        await Assert.ThrowsAsync<InvalidOperationException>(() => follower.Chain.ProduceBlockAsync(CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => follower.Chain.RunProducerAsync(CancellationToken.None));
        Assert.False(follower.Chain.IsValidator);
    }

    [Fact]
    public void Opening_with_a_validator_key_not_named_in_genesis_is_refused()
    {
        var options = new ChainOptions { DataDirectory = Path.Combine(_chain.Directory, "other"), ValidatorKey = Alice };

        Assert.Throws<InvalidOperationException>(() => Blockchain.Open(options, _chain.Genesis));
    }

    [Fact]
    public async Task Producer_makes_a_block_as_soon_as_a_transaction_arrives_then_waits_the_block_interval()
    {
        var blocks = Channel.CreateUnbounded<Block>();
        _chain.Chain.BlockCommitted += (b, _) => blocks.Writer.TryWrite(b);
        using var stop = new CancellationTokenSource();
        var producer = Task.Run(() => _chain.Chain.RunProducerAsync(stop.Token));
        var interval = TimeSpan.FromMilliseconds(_chain.Genesis.BlockIntervalMs);

        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));
        var first = await blocks.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        var firstAt = _chain.Time.GetUtcNow();
        _chain.SubmitNew(Bob, Bodies.Transfer(Alice, 1));
        var next = blocks.Reader.ReadAsync().AsTask();
        for (var step = 0; step < 200 && !next.IsCompleted; step++)
        {
            _chain.Time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.WhenAny(next, Task.Delay(TimeSpan.FromMilliseconds(20)));
        }
        var second = await next.WaitAsync(TimeSpan.FromSeconds(10));
        await stop.CancelAsync();

        Assert.Equal(BlockHeader.FormatTime(firstAt), first.Header.Time);
        var gap = DateTimeOffset.Parse(second.Header.Time, System.Globalization.CultureInfo.InvariantCulture) - firstAt;
        Assert.True(gap >= interval, $"second block came {gap.TotalMilliseconds} ms after the first; the interval is {interval.TotalMilliseconds} ms");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => producer);
        Assert.Equal(2, _chain.Chain.Status.Height);
    }
}
