using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The validator as <c>status</c> shows it: its address (upper hex), key and voting power.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometValidatorInfo(string Address, CometPubKey PubKey, long VotingPower);
