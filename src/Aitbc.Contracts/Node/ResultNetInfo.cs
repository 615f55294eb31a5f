using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>net_info</c>: where the node listens; it has no peers (followers poll their validator).</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record ResultNetInfo(bool Listening, IReadOnlyList<string> Listeners, int NPeers, IReadOnlyList<JsonElement> Peers);
