using System.Text.Json.Serialization;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The conventions of CometBFT v0.38's JSON that the records of this namespace follow: 64-bit integers travel as
/// strings, 32-bit ones as numbers, hashes as upper hex and bytes as base64.
/// </summary>
public static class CometJson
{
    /// <summary>For a record's 64-bit integers: written as strings, read from strings or numbers.</summary>
    public const JsonNumberHandling Int64AsString = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString;

    /// <summary>For a 32-bit integer in a record of <see cref="Int64AsString"/>: written as a number, read from either.</summary>
    public const JsonNumberHandling Int32 = JsonNumberHandling.AllowReadingFromString;

    /// <summary>The CometBFT version the node's answers follow (@cosmjs picks its client by the "0.38." prefix).</summary>
    public const string Version = "0.38.17";

    public const string PubKeyType = "tendermint/PubKeyEd25519";

    /// <summary>CometBFT's block protocol version.</summary>
    public const long BlockProtocol = 11;

    public const long AppProtocol = 1;

    public const long P2pProtocol = 8;
}
