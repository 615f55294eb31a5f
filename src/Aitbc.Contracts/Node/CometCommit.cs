using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The commit of a block: this chain's single validator's signature over the header's canonical bytes.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometCommit(
    long Height,
    [property: JsonNumberHandling(CometJson.Int32)] int Round,
    CometBlockId BlockId,
    IReadOnlyList<CometCommitSig> Signatures)
{
    /// <summary>The commit a first block carries for its (absent) predecessor.</summary>
    public static CometCommit Empty { get; } = new(0, 0, CometBlockId.Of(""), []);
}
