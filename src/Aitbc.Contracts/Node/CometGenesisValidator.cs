using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>A validator as the genesis document names it; <c>voting_power</c> repeats <c>power</c> for readers of either.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometGenesisValidator(string Address, CometPubKey PubKey, long Power, long VotingPower, string Name);
