using Aitbc.Chain;
using Aitbc.Chain.Blocks;
using Aitbc.Contracts.Node;

namespace Aitbc.Node.Rpc;

/// <summary>The chain's blocks: <c>block</c>, <c>block_results</c>, <c>blockchain</c>, <c>header</c>, <c>commit</c>; a missing height is the latest.</summary>
public sealed class BlocksRpcModule(Blockchain chain) : IRpcModule
{
    private const int MaxBlockchainRange = 20;

    public ResultBlock block(long? height)
    {
        if (chain.Status.Height == 0 && height is null)
        {
            throw RpcException.Internal("no blocks yet: the chain is at genesis");
        }
        var block = LoadBlock(Height(height));
        var previous = block.Height > 1 ? LoadBlock(block.Height - 1) : null;
        return new ResultBlock(CometBlockId.Of(block.Hash), CometMapper.Block(block, previous));
    }

    public ResultBlockResults block_results(long? height)
    {
        var at = Height(height);
        var stored = chain.Store.GetBlock(at) ?? throw RpcException.Internal($"block at height {at} not found");
        var txs = chain.Store.GetBlockTxs(at);
        return new ResultBlockResults(at, txs.Count == 0 ? null : [.. txs.Select(t => CometMapper.TxResult(t.Result))], [], null, null, stored.ResultAppHash);
    }

    /// <summary>Up to 20 block summaries ending at <paramref name="maxHeight"/> (or the tip), newest first.</summary>
    public ResultBlockchainInfo blockchain(long? minHeight, long? maxHeight)
    {
        var latest = chain.Status.Height;
        var max = Math.Min(maxHeight is { } mx and > 0 ? mx : latest, latest);
        var min = minHeight is { } mn and > 0 ? mn : 1;
        if (min > max && latest > 0)
        {
            throw RpcException.Internal($"min height {min} can't be greater than max height {max}");
        }
        min = Math.Max(min, max - MaxBlockchainRange + 1);
        var metas = latest == 0 ? [] : chain.Store.GetBlockMetas(min, max);
        return new ResultBlockchainInfo(latest, [.. metas.Select(m => new CometBlockMeta(CometBlockId.Of(m.Hash), 0, CometHeader.From(m.Header), m.NumTxs))]);
    }

    public ResultHeader header(long? height) => new(CometHeader.From(LoadBlock(Height(height)).Header));

    public ResultCommit commit(long? height)
    {
        var block = LoadBlock(Height(height));
        return new ResultCommit(new CometSignedHeader(CometHeader.From(block.Header), CometMapper.Commit(block)), true);
    }

    /// <summary>The height asked for, or the latest; CometBFT refuses one outside 1..latest as an internal error.</summary>
    private long Height(long? requested)
    {
        var latest = chain.Status.Height;
        var height = requested ?? latest;
        if (height <= 0)
        {
            throw RpcException.Internal($"height must be greater than 0, but got {height}");
        }
        if (height > latest)
        {
            throw RpcException.Internal($"height {height} must be less than or equal to the current blockchain height {latest}");
        }
        return height;
    }

    private Block LoadBlock(long height) =>
        chain.Store.GetBlock(height)?.Block ?? throw RpcException.Internal($"block at height {height} not found");
}
