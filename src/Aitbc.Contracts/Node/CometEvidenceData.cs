using System.Text.Json;

namespace Aitbc.Contracts.Node;

/// <summary>A block's evidence of misbehaviour: always empty on a chain of one validator.</summary>
public sealed record CometEvidenceData(IReadOnlyList<JsonElement> Evidence)
{
    public static CometEvidenceData None { get; } = new([]);
}
