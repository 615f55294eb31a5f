using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class PersistenceTests : IDisposable
{
    private readonly TestChain _chain = TestChain.Validator();

    public void Dispose() => _chain.Dispose();

    /// <summary>Three blocks that leave every kind of state: balances, allowances, stake, open/paid/refunded escrow, a receipt.</summary>
    private async Task CommitHistoryAsync(TestChain chain)
    {
        await chain.CommitAsync(
            chain.Txs.Sign(Miner, Bodies.RegisterMiner(10_000)),
            chain.Txs.Sign(Alice, Bodies.Approve(Coordinator, 90_000)),
            chain.Txs.Sign(Bob, Bodies.Approve(Coordinator, 5)));
        await chain.CommitAsync(
            chain.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, 20_000)),
            chain.Txs.Sign(Coordinator, Bodies.SubmitJob("job-2", Alice, 20_000)),
            chain.Txs.Sign(Coordinator, Bodies.SubmitJob("job-3", Alice, 20_000)));
        await chain.CommitAsync(
            chain.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 7_500)),
            chain.Txs.Sign(Coordinator, Bodies.Refund("job-2", "timed out")),
            chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 123)));
    }

    [Fact]
    public async Task Reopened_chain_resumes_at_the_same_height_hash_and_app_hash()
    {
        await CommitHistoryAsync(_chain);
        var before = _chain.Chain.Status;

        _chain.Reopen();

        Assert.Equal(before, _chain.Chain.Status);
        Assert.Equal(3, _chain.Chain.Status.Height);
    }

    [Fact]
    public async Task Reopened_chain_holds_the_same_state()
    {
        await CommitHistoryAsync(_chain);
        var accounts = new[] { Coordinator, Alice, Bob, Miner, OtherMiner }.ToDictionary(k => k.Address, k => _chain.Account(k).Describe());
        var escrows = new[] { "job-1", "job-2", "job-3" }.ToDictionary(j => j, j => _chain.Escrow(j)!);
        var receipt = _chain.Chain.Read(s => s.GetReceipt("rcpt-1"));
        var miners = _chain.Chain.Miners();

        _chain.Reopen();

        foreach (var (address, account) in accounts)
        {
            Assert.Equal(account, _chain.Chain.Read(s => s.GetAccount(address)).Describe());
        }
        foreach (var (jobId, escrow) in escrows)
        {
            Assert.Equal(escrow, _chain.Escrow(jobId));
        }
        Assert.Equal(receipt, _chain.Chain.Read(s => s.GetReceipt("rcpt-1")));
        Assert.Equal(miners, _chain.Chain.Miners());
        Assert.Equal(_chain.Genesis.TotalSupply, _chain.Chain.ComputeSupply());
        Assert.Equal(EscrowStatus.Open, escrows["job-3"].Status);
        Assert.Equal(30_000UL, _chain.Account(Alice).AllowanceFor(Coordinator.Address).Micro);
    }

    [Fact]
    public async Task Reopened_chain_keeps_producing_blocks_linked_to_the_old_tip()
    {
        await CommitHistoryAsync(_chain);
        _chain.Reopen();
        var tip = _chain.Chain.Status;

        var block = await _chain.CommitAsync(
            _chain.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-3", "job-3", Miner, 20_000)),
            _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)));

        Assert.Equal(tip.Height + 1, block.Height);
        Assert.Equal(tip.LastBlockHash, block.Header.LastBlockHash);
        Assert.Equal(tip.AppHash, block.Header.AppHash);
        Assert.Equal(EscrowStatus.Paid, _chain.Escrow("job-3")!.Status);
        Assert.Equal(_chain.Genesis.TotalSupply, _chain.Chain.ComputeSupply());
    }

    [Fact]
    public async Task Restart_does_not_change_the_app_hash_a_chain_reaches()
    {
        using var uninterrupted = TestChain.Validator();
        await CommitHistoryAsync(_chain);
        await CommitHistoryAsync(uninterrupted);

        _chain.Reopen();
        await _chain.CommitAsync(_chain.Txs.Sign(Bob, Bodies.Transfer(Alice, 9)));
        await uninterrupted.CommitAsync(uninterrupted.Txs.Sign(Bob, Bodies.Transfer(Alice, 9)));

        Assert.Equal(uninterrupted.Chain.Status.AppHash, _chain.Chain.Status.AppHash);
    }

    [Fact]
    public async Task Reopened_chain_serves_the_stored_blocks_unchanged()
    {
        await CommitHistoryAsync(_chain);
        var hashes = Enumerable.Range(1, 3).Select(h => _chain.StoredBlock(h).Hash).ToList();

        _chain.Reopen();

        Assert.Equal(hashes, Enumerable.Range(1, 3).Select(h => _chain.StoredBlock(h).Hash));
        Assert.Null(_chain.Chain.Store.GetBlock(4));
    }

    [Fact]
    public async Task Reopened_chain_starts_with_an_empty_mempool()
    {
        await CommitHistoryAsync(_chain);
        var waiting = _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));

        _chain.Reopen();

        Assert.Equal(0, _chain.Chain.MempoolCount);
        Assert.True(_chain.Submit(waiting).IsOk, "a transaction lost with the mempool can be sent again");
    }

    [Fact]
    public async Task Reopening_with_a_different_genesis_is_refused()
    {
        await CommitHistoryAsync(_chain);
        var other = new GenesisBuilder { ChainId = "aitbc-other" }.Build();

        var error = Assert.Throws<InvalidOperationException>(() => _chain.Reopen(other));

        Assert.Contains("different chain", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reopening_with_genesis_allocations_changed_is_refused_and_the_right_genesis_still_opens()
    {
        await CommitHistoryAsync(_chain);
        var richer = new GenesisBuilder { Allocations = [.. new GenesisBuilder().Allocations, GenesisBuilder.Fund(Stranger)] }.Build();
        var status = _chain.Chain.Status;

        Assert.Throws<InvalidOperationException>(() => _chain.Reopen(richer));
        _chain.Reopen();

        Assert.Equal(status, _chain.Chain.Status);
        Assert.Equal(0UL, _chain.Balance(Stranger));
    }

    [Fact]
    public async Task Genesis_stored_on_first_open_is_the_one_given()
    {
        await CommitHistoryAsync(_chain);

        var stored = _chain.Chain.Store.LoadGenesis();

        Assert.NotNull(stored);
        Assert.Equal(_chain.Genesis.CanonicalBytes(), stored.CanonicalBytes());
    }
}
