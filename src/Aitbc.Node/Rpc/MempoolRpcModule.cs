using Aitbc.Chain;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Contracts.Node;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Rpc;

/// <summary>
/// Transactions on their way in: <c>broadcast_tx_sync</c>, <c>_async</c> and <c>_commit</c>, <c>check_tx</c>, and the
/// mempool's <c>unconfirmed_txs</c> and <c>num_unconfirmed_txs</c>. A follower forwards broadcasts to its validator.
/// </summary>
public sealed class MempoolRpcModule(Blockchain chain, IBroadcastForwarder? forwarder) : IRpcModule
{
    private static readonly TimeSpan ForwardedCommitSyncTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Returns once CheckTx has admitted or refused <paramref name="tx"/>.</summary>
    public Task<ResultBroadcastTx> broadcast_tx_sync(byte[]? tx, CancellationToken cancellationToken) =>
        BroadcastAsync(nameof(broadcast_tx_sync), Required(tx), cancellationToken);

    /// <summary>As <see cref="broadcast_tx_sync"/>: CometBFT answers before CheckTx, this node after it.</summary>
    public Task<ResultBroadcastTx> broadcast_tx_async(byte[]? tx, CancellationToken cancellationToken) =>
        BroadcastAsync(nameof(broadcast_tx_async), Required(tx), cancellationToken);

    /// <summary>Returns once the block that executes <paramref name="tx"/> is committed, or CheckTx refused it.</summary>
    public async Task<ResultBroadcastTxCommit> broadcast_tx_commit(byte[]? tx, CancellationToken cancellationToken)
    {
        var bytes = Required(tx);
        if (forwarder is not null)
        {
            var answer = await forwarder.ForwardAsync<ResultBroadcastTxCommit>(nameof(broadcast_tx_commit), bytes, cancellationToken).ConfigureAwait(false);
            if (answer.Height > 0)
            {
                await WaitForLocalHeightAsync(answer.Height, cancellationToken).ConfigureAwait(false);
            }
            return answer;
        }
        CommitTxResult result;
        try
        {
            result = await chain.BroadcastCommitAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw RpcException.Internal(e.Message);
        }
        return new ResultBroadcastTxCommit(
            CometMapper.TxResult(result.Check.Result),
            CometMapper.TxResult(result.Deliver ?? new TxResult(TxCode.Ok, "", [])),
            result.Check.Hash,
            result.Height);
    }

    /// <summary>Runs CheckTx on <paramref name="tx"/> without adding it to the mempool.</summary>
    public CometExecTxResult check_tx(byte[]? tx) => CometMapper.TxResult(chain.CheckTx(Required(tx), addToMempool: false).Result);

    public ResultUnconfirmedTxs unconfirmed_txs(long? limit) => Unconfirmed(limit, includeTxs: true);

    public ResultUnconfirmedTxs num_unconfirmed_txs(long? limit) => Unconfirmed(limit, includeTxs: false);

    /// <summary>
    /// A JSON-RPC batch made only of broadcast_tx_sync/async calls, each with a base64 tx, is admitted in one go
    /// (<see cref="Blockchain.CheckTxBatch"/>); anything else returns null and takes the per-call path. Not public: it
    /// is no RPC method of its own.
    /// </summary>
    internal IReadOnlyList<ResultBroadcastTx>? TryAdmitBatch(IReadOnlyList<RpcCall> batch)
    {
        if (forwarder is not null || batch.Count < 2)
        {
            return null;
        }
        var txs = new List<byte[]>(batch.Count);
        foreach (var call in batch)
        {
            if (call.Method is not (nameof(broadcast_tx_sync) or nameof(broadcast_tx_async)))
            {
                return null;
            }
            try
            {
                // The same reading of params as the per-call path, so both refuse the same requests.
                txs.Add(Required(RpcParams.FromJson(call.Params).GetBytes("tx")));
            }
            catch (RpcException)
            {
                return null;
            }
        }
        return [.. chain.CheckTxBatch(txs).Select(Answer)];
    }

    private static byte[] Required(byte[]? tx) =>
        tx is { Length: > 0 } ? tx : throw RpcException.InvalidParams("tx is required (base64 of the transaction bytes)");

    private static ResultBroadcastTx Answer(CheckTxResult check) =>
        new((uint)check.Result.Code, [], check.Result.Log, check.IsOk ? "" : "aitbc", check.Hash);

    private async Task<ResultBroadcastTx> BroadcastAsync(string method, byte[] tx, CancellationToken cancellationToken) =>
        forwarder is not null
            ? await forwarder.ForwardAsync<ResultBroadcastTx>(method, tx, cancellationToken).ConfigureAwait(false)
            : Answer(chain.CheckTx(tx, addToMempool: true));

    private ResultUnconfirmedTxs Unconfirmed(long? limit, bool includeTxs)
    {
        var count = (int)Math.Clamp(limit ?? 30, 1, 100);
        var txs = includeTxs ? chain.UnconfirmedTxs(count) : [];
        return new ResultUnconfirmedTxs(
            includeTxs ? txs.Count : chain.MempoolCount,
            chain.MempoolCount,
            chain.MempoolBytes,
            includeTxs ? [.. txs.Select(t => t.WireBytes)] : null);
    }

    /// <summary>
    /// A follower answers a forwarded broadcast_tx_commit only once it has imported the block itself, as a CometBFT
    /// full node does: a client that reads back block/tx/abci_query at the returned height from the same node then
    /// finds it. If this node cannot get there in time (halted, far behind), the validator's answer stands.
    /// </summary>
    private async Task WaitForLocalHeightAsync(long height, CancellationToken cancellationToken)
    {
        if (chain.Status.Height >= height)
        {
            return;
        }
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnCommit(Block block, IReadOnlyList<TxResult> results)
        {
            if (block.Height >= height)
            {
                reached.TrySetResult();
            }
        }
        chain.BlockCommitted += OnCommit;
        try
        {
            if (chain.Status.Height < height)
            {
                await reached.Task.WaitAsync(ForwardedCommitSyncTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            chain.BlockCommitted -= OnCommit;
        }
    }
}
