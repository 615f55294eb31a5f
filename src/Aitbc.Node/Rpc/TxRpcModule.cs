using Aitbc.Chain;
using Aitbc.Chain.Storage;
using Aitbc.Contracts.Node;

namespace Aitbc.Node.Rpc;

/// <summary>Committed transactions: <c>tx</c> by hash and <c>tx_search</c> by the events they emitted.</summary>
public sealed class TxRpcModule(Blockchain chain) : IRpcModule
{
    public ResultTx tx([RpcHash] string? hash)
    {
        if (hash is null)
        {
            throw RpcException.InvalidParams("hash is required");
        }
        var tx = chain.Store.GetTx(hash) ?? throw RpcException.Internal($"tx ({hash}) not found");
        return CometMapper.Tx(tx);
    }

    /// <summary>
    /// One page of the transactions matching <paramref name="query"/> (<see cref="TxQuery"/>), in height order; the
    /// search stops with <see cref="ScanBudgetExceededException"/> once it has spent <paramref name="scan"/>.
    /// </summary>
    public ResultTxSearch tx_search(string? query, long? page, long? per_page, string? order_by, ScanBudget? scan)
    {
        var conditions = TxQuery.Parse(query ?? "");
        var perPage = (int)Math.Clamp(per_page ?? 30, 1, 100);
        var pageNumber = page ?? 1;
        if (pageNumber < 1)
        {
            throw RpcException.InvalidParams("page must be at least 1");
        }
        var order = order_by ?? "asc";
        if (order is not ("asc" or "desc" or ""))
        {
            throw RpcException.InvalidParams("order_by must be asc or desc");
        }
        var (txs, total) = chain.Store.SearchTxs(conditions, (int)Math.Min(pageNumber, int.MaxValue / perPage), perPage, order == "desc", scan);
        return new ResultTxSearch([.. txs.Select(CometMapper.Tx)], total);
    }
}
