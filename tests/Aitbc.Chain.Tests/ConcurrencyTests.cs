using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class ConcurrencyTests : IDisposable
{
    private const int TxsPerSender = 40;
    private readonly TestChain _chain = TestChain.Validator();

    public void Dispose() => _chain.Dispose();

    [Fact]
    public async Task Transactions_checked_while_blocks_are_produced_are_each_committed_exactly_once()
    {
        Ed25519KeyPair[] senders = [Alice, Bob, Miner, OtherMiner];
        var signed = senders.Select(s => Enumerable.Range(0, TxsPerSender).Select(_ => _chain.Txs.Sign(s, Bodies.Transfer(Coordinator, 1))).ToList()).ToList();
        using var done = new CancellationTokenSource();
        var producer = Task.Run(async () =>
        {
            while (!done.IsCancellationRequested)
            {
                if (await _chain.Chain.ProduceBlockAsync(CancellationToken.None) is null)
                {
                    await Task.Yield();
                }
            }
        });

        var verdicts = await Task.WhenAll(signed.Select(txs => Task.Run(() => txs.Select(t => _chain.Submit(t)).ToList())));
        await done.CancelAsync();
        await producer;
        await _chain.Chain.ProduceBlockAsync(CancellationToken.None);

        Assert.All(verdicts.SelectMany(v => v), v => Assert.True(v.IsOk, $"{v.Result.Code} {v.Result.Log}"));
        Assert.Equal(0, _chain.Chain.MempoolCount);
        foreach (var tx in signed.SelectMany(t => t))
        {
            var indexed = _chain.Chain.Store.GetTx(tx.Hash);
            Assert.NotNull(indexed);
            Assert.Equal(TxCode.Ok, indexed.Result.Code);
        }
        var committed = Enumerable.Range(1, (int)_chain.Chain.Status.Height).Sum(h => _chain.StoredBlock(h).Txs.Count);
        Assert.Equal(senders.Length * TxsPerSender, committed);
        Assert.All(senders, s => Assert.Equal((ulong)TxsPerSender, _chain.Account(s).Nonce));
        Assert.Equal(GenesisBuilder.InitialBalance + (ulong)(senders.Length * TxsPerSender), _chain.Balance(Coordinator));
        Assert.Equal(_chain.Genesis.TotalSupply, _chain.Chain.ComputeSupply());
    }
}
