using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Contracts.Node;

namespace Aitbc.Node.Rpc;

/// <summary>
/// Our blocks and results as the CometBFT v0.38 records of the RPC, and back: a follower rebuilds the exact signed
/// block from the validator's <c>block</c> and <c>commit</c> answers.
/// </summary>
public static class CometMapper
{
    /// <summary>The commit of a block: our single validator's signature over the header's canonical bytes.</summary>
    public static CometCommit Commit(Block block) => new(
        block.Height,
        0,
        CometBlockId.Of(block.Hash),
        [new CometCommitSig(CometCommitSig.FlagCommit, block.Header.ProposerAddress, block.Header.Time, block.Signature)]);

    public static CometBlock Block(Block block, Block? previous) => new(
        CometHeader.From(block.Header),
        new CometBlockData(block.Txs),
        CometEvidenceData.None,
        previous is null ? CometCommit.Empty : Commit(previous));

    public static Block ToBlock(ResultBlock block, ResultCommit commit)
    {
        var signatures = commit.SignedHeader.Commit.Signatures;
        return new Block(block.Block.Header.ToBlockHeader(), block.Block.Data.Txs ?? [], signatures.Count > 0 ? signatures[0].Signature : "");
    }

    public static CometExecTxResult TxResult(TxResult result) => new(
        (uint)result.Code,
        Data: null,
        result.Log,
        Info: "",
        GasWanted: 0,
        GasUsed: 0,
        [.. result.Events.Select(e => new CometEvent(e.Type, [.. e.Attributes.Select(a => new CometEventAttribute(a.Key, a.Value, a.Index))]))],
        result.IsOk ? "" : "aitbc");

    public static ResultTx Tx(IndexedTx tx) => new(tx.Hash, tx.Height, tx.Index, TxResult(tx.Result), tx.Tx);
}
