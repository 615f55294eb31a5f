using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>The application's answer to Info: its name, versions and the last block it executed.</summary>
[JsonNumberHandling(CometJson.Int64AsString)]
public sealed record CometAbciInfo(string Data, string Version, long AppVersion, long LastBlockHeight, byte[] LastBlockAppHash);
