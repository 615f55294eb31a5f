using Aitbc.Chain.Storage;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Storage;

/// <summary>Three committed blocks, shared read-only by the store queries below.</summary>
public sealed class IndexedChainFixture : IAsyncLifetime
{
    private TestChain? _chain;

    internal TestChain Chain => _chain ?? throw new InvalidOperationException("not initialised");

    public ChainStore Store => Chain.Chain.Store;

    /// <summary>Transaction hashes by block (index 0 is height 1), in block order.</summary>
    public List<List<string>> Blocks { get; } = [];

    public async Task InitializeAsync()
    {
        _chain = TestChain.Validator();
        var c = _chain;
        await Commit(
            c.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)),
            c.Txs.Sign(Bob, Bodies.Transfer(Alice, 2)),
            c.Txs.Sign(Miner, Bodies.RegisterMiner(1_000)));
        await Commit(
            c.Txs.Sign(Alice, Bodies.Transfer(Miner, 3)),
            c.Txs.Sign(Alice, Bodies.Approve(Coordinator, 50_000)),
            c.Txs.Sign(Alice, Bodies.Transfer(Bob, 4)));
        await Commit(
            c.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, 10_000)),
            c.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 2_500)),
            c.Txs.Sign(Alice, Bodies.Transfer(Bob, 5)));

        async Task Commit(params SignedTransaction[] txs)
        {
            await c.CommitAsync(txs);
            Blocks.Add([.. txs.Select(t => t.Hash)]);
        }
    }

    public Task DisposeAsync()
    {
        _chain?.Dispose();
        return Task.CompletedTask;
    }
}

public sealed class ChainStoreTests(IndexedChainFixture fixture) : IClassFixture<IndexedChainFixture>
{
    private readonly ChainStore _store = fixture.Store;

    private static (string Key, string Op, string Value) Where(string key, string value, string op = "=") => (key, op, value);

    private List<string> Search(params (string, string, string)[] conditions) =>
        [.. _store.SearchTxs(conditions, page: 1, perPage: 100, descending: false).Page.Select(t => t.Hash)];

    [Fact]
    public void Get_tx_by_hash_returns_where_it_landed_and_how_it_fared()
    {
        var hash = fixture.Blocks[1][2];

        var tx = _store.GetTx(hash);

        Assert.NotNull(tx);
        Assert.Equal(hash, tx.Hash);
        Assert.Equal(2, tx.Height);
        Assert.Equal(2, tx.Index);
        Assert.Equal(hash, Core.Crypto.Hashing.Sha256UpperHex(tx.Tx));
        Assert.Equal(TxCode.Ok, tx.Result.Code);
        var e = Assert.Single(tx.Result.Events);
        Assert.Equal(TxType.Transfer, e.Type);
        Assert.Contains(e.Attributes, a => a.Key == "amount" && a.Value == "4");
    }

    [Fact]
    public void Get_tx_of_an_unknown_hash_is_null()
    {
        Assert.Null(_store.GetTx(new string('A', 64)));
    }

    [Fact]
    public void First_stored_tx_names_a_committed_hash_among_unknown_ones()
    {
        var unknown = new string('B', 64);

        Assert.Equal(fixture.Blocks[2][1], _store.FirstStoredTx([unknown, fixture.Blocks[2][1]]));
        Assert.Null(_store.FirstStoredTx([unknown]));
    }

    [Fact]
    public void Search_by_transfer_sender_finds_that_senders_transfers_in_height_order()
    {
        var (page, total) = _store.SearchTxs([Where("transfer.sender", Alice.Address.Value)], 1, 100, descending: false);

        Assert.Equal([fixture.Blocks[0][0], fixture.Blocks[1][0], fixture.Blocks[1][2], fixture.Blocks[2][2]], page.Select(t => t.Hash));
        Assert.Equal(4, total);
        Assert.All(page, t => Assert.Equal(TxType.Transfer, Assert.Single(t.Result.Events).Type));
    }

    [Fact]
    public void Search_by_transfer_recipient_finds_transfers_to_that_address()
    {
        Assert.Equal([fixture.Blocks[1][0]], Search(Where("transfer.recipient", Miner.Address.Value)));
    }

    [Fact]
    public void Search_by_job_and_receipt_events_finds_the_escrow_transactions()
    {
        Assert.Equal([fixture.Blocks[2][0]], Search(Where("submit_job.job_id", "job-1")));
        Assert.Equal([fixture.Blocks[2][1]], Search(Where("record_receipt.job_id", "job-1")));
        Assert.Equal([fixture.Blocks[2][1]], Search(Where("record_receipt.miner", Miner.Address.Value)));
        Assert.Equal([fixture.Blocks[0][2]], Search(Where("register_miner.miner", Miner.Address.Value)));
    }

    [Fact]
    public void Search_by_tx_height_finds_that_blocks_transactions_in_block_order()
    {
        Assert.Equal(fixture.Blocks[1], Search(Where("tx.height", "2")));
    }

    [Fact]
    public void Search_by_tx_height_range_compares_numerically()
    {
        Assert.Equal([.. fixture.Blocks[1], .. fixture.Blocks[2]], Search(Where("tx.height", "2", ">=")));
        Assert.Equal(fixture.Blocks[0], Search(Where("tx.height", "2", "<")));
    }

    [Fact]
    public void Search_conditions_are_joined_by_and()
    {
        var hits = Search(Where("transfer.sender", Alice.Address.Value), Where("tx.height", "2"));

        Assert.Equal([fixture.Blocks[1][0], fixture.Blocks[1][2]], hits);
    }

    [Fact]
    public void Search_by_tx_hash_accepts_lower_case()
    {
        var hash = fixture.Blocks[0][1];

        Assert.Equal([hash], Search(Where("tx.hash", hash.ToLowerInvariant())));
    }

    [Fact]
    public void Search_pages_through_results_and_reports_the_total()
    {
        var (second, total) = _store.SearchTxs([Where("transfer.sender", Alice.Address.Value)], page: 2, perPage: 3, descending: false);

        Assert.Equal(4, total);
        Assert.Equal(fixture.Blocks[2][2], Assert.Single(second).Hash);
    }

    [Theory]
    [InlineData(">", "0", 9)]
    [InlineData(">=", "1", 9)]
    [InlineData(">", "1", 6)]
    [InlineData(">=", "3", 3)]
    [InlineData(">", "3", 0)]
    public void Search_by_height_lower_bound_reports_the_total_from_the_kept_count(string op, string height, int expected)
    {
        var (page, total) = _store.SearchTxs([Where("tx.height", height, op)], page: 1, perPage: 2, descending: true);

        Assert.Equal(expected, total);
        Assert.Equal(Math.Min(2, expected), page.Count);
    }

    [Fact]
    public void Kept_transaction_count_survives_reopening_the_store()
    {
        var path = Path.Combine(fixture.Chain.Directory, "data-copy.db");
        using (var copy = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}"))
        {
            copy.Open();
            using var backup = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(fixture.Chain.Directory, "chain.db")}");
            backup.Open();
            backup.BackupDatabase(copy);
            using var forget = copy.CreateCommand();
            // A store written before the count was kept has no tx_count: opening it counts once.
            forget.CommandText = "DELETE FROM meta WHERE key = 'tx_count'";
            forget.ExecuteNonQuery();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        using var reopened = ChainStore.Open(path);

        Assert.Equal(9, reopened.SearchTxs([Where("tx.height", "0", ">")], 1, 1, descending: false).Total);
    }

    [Fact]
    public void Search_in_descending_order_starts_from_the_newest()
    {
        var (page, _) = _store.SearchTxs([Where("transfer.sender", Alice.Address.Value)], 1, 100, descending: true);

        Assert.Equal([fixture.Blocks[2][2], fixture.Blocks[1][2], fixture.Blocks[1][0], fixture.Blocks[0][0]], page.Select(t => t.Hash));
    }

    [Fact]
    public void Search_without_a_match_is_empty()
    {
        var (page, total) = _store.SearchTxs([Where("transfer.sender", Stranger.Address.Value)], 1, 30, descending: false);

        Assert.Empty(page);
        Assert.Equal(0, total);
    }

    [Theory]
    [InlineData("tx.height", "= 1 OR 1 =", "1")]
    [InlineData("tx.height", "!=", "1")]
    [InlineData("transfer.amount", ">", "1")]
    [InlineData("tx.hash", "<", "AB")]
    public void Search_with_an_operator_the_store_cannot_honour_is_refused_rather_than_misread(string key, string op, string value)
    {
        Assert.Throws<ArgumentException>(() => _store.SearchTxs([(key, op, value)], 1, 30, descending: false));
    }

    [Fact]
    public void Block_txs_are_returned_in_block_order_with_results()
    {
        var txs = _store.GetBlockTxs(3);

        Assert.Equal(fixture.Blocks[2], txs.Select(t => t.Hash));
        Assert.Equal([0, 1, 2], txs.Select(t => t.Index));
        Assert.All(txs, t => Assert.True(t.Result.IsOk));
    }

    [Fact]
    public void Block_metas_are_listed_newest_first_with_their_tx_counts()
    {
        var metas = _store.GetBlockMetas(1, 3);

        Assert.Equal([3L, 2L, 1L], metas.Select(m => m.Header.Height));
        Assert.All(metas, m => Assert.Equal(3, m.NumTxs));
        Assert.Equal(fixture.Chain.Chain.Status.LastBlockHash, metas[0].Hash);
    }

    [Fact]
    public void Stored_block_reads_back_with_its_hash_signature_and_transactions()
    {
        var stored = _store.GetBlock(2);

        Assert.NotNull(stored);
        var (block, _) = stored.Value;
        Assert.Equal(fixture.Blocks[1], block.Txs.Select(t => Core.Crypto.Hashing.Sha256UpperHex(t)));
        Assert.True(block.VerifySignature(Validator.PublicKey));
        Assert.Equal(_store.GetBlockMetas(2, 2)[0].Hash, block.Hash);
    }
}
