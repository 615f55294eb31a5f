using System.Text.Json.Serialization;
using Aitbc.Core.Blocks;

namespace Aitbc.Contracts.Node;

/// <summary>
/// A block header in CometBFT v0.38's shape. The fields this chain does not use (validator, consensus, results and
/// evidence hashes) are empty; the rest are the signed <see cref="BlockHeader"/>'s, so a reader can rebuild it exactly.
/// </summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometHeader(
    CometConsensusVersion Version,
    string ChainId,
    long Height,
    string Time,
    CometBlockId LastBlockId,
    string LastCommitHash,
    string DataHash,
    string ValidatorsHash,
    string NextValidatorsHash,
    string ConsensusHash,
    string AppHash,
    string LastResultsHash,
    string EvidenceHash,
    string ProposerAddress)
{
    public static CometHeader From(BlockHeader header) => new(
        new CometConsensusVersion(CometJson.BlockProtocol, CometJson.AppProtocol),
        header.ChainId,
        header.Height,
        header.Time,
        CometBlockId.Of(header.LastBlockHash),
        "",
        header.DataHash,
        "",
        "",
        "",
        header.AppHash,
        "",
        "",
        header.ProposerAddress);

    /// <summary>The header the validator signed, whose hash is the block's.</summary>
    public BlockHeader ToBlockHeader() => new(ChainId, Height, Time, LastBlockId.Hash, DataHash, AppHash, ProposerAddress);
}
