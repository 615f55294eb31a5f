using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

/// <summary>
/// After each commit the mempool is checked again over the new state. On a follower its mempool can disagree with
/// the validator's block, which is how a committed transaction invalidates a waiting one.
/// </summary>
public sealed class MempoolRecheckTests : IDisposable
{
    private readonly TestChain _validator = TestChain.Validator();
    private readonly TestChain _follower = TestChain.Follower();

    public void Dispose()
    {
        _validator.Dispose();
        _follower.Dispose();
    }

    [Fact]
    public async Task Waiting_transaction_invalidated_by_a_committed_one_is_evicted()
    {
        var waiting = _follower.SubmitNew(Alice, Bodies.Transfer(Bob, 10));
        var stillValid = _follower.SubmitNew(Bob, Bodies.Transfer(Alice, 10));
        var block = await _validator.CommitAsync(_validator.Txs.Sign(Alice, Bodies.Transfer(Miner, 20)));

        _follower.Chain.ImportBlock(block);

        Assert.Equal(stillValid.Hash, Assert.Single(_follower.Chain.UnconfirmedTxs(10)).Hash);
        Assert.Equal(TxCode.BadNonce, _follower.Submit(waiting).Result.Code);
    }

    [Fact]
    public async Task Waiting_transaction_that_overspends_after_a_commit_is_evicted()
    {
        // Alice's second transfer was fine after her first, but the validator's block spent her funds and used her first nonce.
        _follower.SubmitNew(Alice, Bodies.Transfer(Bob, 10));
        var second = _follower.SubmitNew(Alice, Bodies.Transfer(Bob, 20));
        var block = await _validator.CommitAsync(_validator.Txs.Sign(Alice, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance - 15)));

        _follower.Chain.ImportBlock(block);

        Assert.Equal(0, _follower.Chain.MempoolCount);
        Assert.Equal(TxCode.InsufficientFunds, _follower.Submit(second).Result.Code);
    }

    [Fact]
    public async Task Broadcast_commit_of_an_evicted_transaction_reports_why_it_was_evicted()
    {
        var waiting = _follower.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));
        var pending = _follower.Chain.BroadcastCommitAsync(waiting.WireBytes, CancellationToken.None);
        var block = await _validator.CommitAsync(_validator.Txs.Sign(Alice, Bodies.Transfer(Miner, 20)));

        _follower.Chain.ImportBlock(block);
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(TxCode.BadNonce, result.Check.Result.Code);
        Assert.Null(result.Deliver);
        Assert.Equal(0, result.Height);
    }

    [Fact]
    public async Task Transaction_committed_by_the_validator_leaves_the_followers_mempool()
    {
        var tx = _follower.SubmitNew(Alice, Bodies.Transfer(Bob, 10));
        var block = await _validator.CommitAsync(tx);

        _follower.Chain.ImportBlock(block);

        Assert.Equal(0, _follower.Chain.MempoolCount);
        Assert.Equal(GenesisBuilder.InitialBalance + 10, _follower.Balance(Bob));
    }
}
