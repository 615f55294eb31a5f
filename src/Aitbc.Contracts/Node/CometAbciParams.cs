using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>From which height vote extensions are on; 0 is never.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometAbciParams(long VoteExtensionsEnableHeight);
