using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>A validator as <c>validators</c> lists it.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometValidator(string Address, CometPubKey PubKey, long VotingPower, long ProposerPriority = 0);
