using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class BroadcastCommitTests : IDisposable
{
    private readonly TestChain _chain = TestChain.Validator();

    public void Dispose() => _chain.Dispose();

    [Fact]
    public async Task Broadcast_commit_returns_the_deliver_result_and_height_once_the_block_is_made()
    {
        var tx = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));

        var pending = _chain.Chain.BroadcastCommitAsync(tx.WireBytes, CancellationToken.None);
        Assert.False(pending.IsCompleted, "the transaction is not committed before a block is made");
        var produced = Task.Run(() => _chain.Chain.ProduceBlockAsync(CancellationToken.None));
        var result = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        var block = await produced;

        Assert.NotNull(block);
        Assert.True(result.Check.IsOk);
        Assert.Equal(tx.Hash, result.Check.Hash);
        Assert.NotNull(result.Deliver);
        Assert.True(result.Deliver.IsOk, result.Deliver.Log);
        Assert.Equal(TxType.Transfer, Assert.Single(result.Deliver.Events).Type);
        Assert.Equal(block.Height, result.Height);
    }

    [Fact]
    public async Task Broadcast_commits_of_one_block_all_complete_with_its_height()
    {
        var txs = new[]
        {
            _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1)),
            _chain.Txs.Sign(Bob, Bodies.Transfer(Alice, 1)),
            _chain.Txs.Sign(Alice, Bodies.Approve(Coordinator, 1)),
        };

        var pending = txs.Select(t => _chain.Chain.BroadcastCommitAsync(t.WireBytes, CancellationToken.None)).ToList();
        var block = await _chain.ProduceAsync();
        var results = await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(results, r => Assert.Equal(block.Height, r.Height));
        Assert.Equal(txs.Select(t => t.Hash), results.Select(r => r.Check.Hash));
    }

    [Fact]
    public async Task Broadcast_commit_of_a_refused_transaction_answers_at_once_with_the_check_verdict()
    {
        var tx = _chain.Txs.Peek(Alice, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance + 1));

        var result = await _chain.Chain.BroadcastCommitAsync(tx.WireBytes, CancellationToken.None);

        Assert.Equal(TxCode.InsufficientFunds, result.Check.Result.Code);
        Assert.Null(result.Deliver);
        Assert.Equal(0, result.Height);
        Assert.Equal(0, _chain.Chain.MempoolCount);
    }

    [Fact]
    public async Task Broadcast_commit_gives_up_after_the_commit_timeout_on_the_chains_clock()
    {
        var tx = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));
        var pending = _chain.Chain.BroadcastCommitAsync(tx.WireBytes, CancellationToken.None);

        _chain.Time.Advance(TimeSpan.FromSeconds(11));
        var finished = await Task.WhenAny(pending, Task.Delay(TimeSpan.FromSeconds(5)));

        Assert.Same(pending, finished);
        var error = await Assert.ThrowsAsync<TimeoutException>(() => pending);
        Assert.Contains(tx.Hash, error.Message, StringComparison.Ordinal);
        Assert.Equal(1, _chain.Chain.MempoolCount);
    }

    [Fact]
    public async Task Broadcast_commit_stops_waiting_when_cancelled()
    {
        using var cancel = new CancellationTokenSource();
        var tx = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));
        var pending = _chain.Chain.BroadcastCommitAsync(tx.WireBytes, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }
}
