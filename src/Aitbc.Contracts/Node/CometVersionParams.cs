using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The application's protocol version.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometVersionParams(long App);
