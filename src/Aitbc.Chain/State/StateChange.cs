using System.Security.Cryptography;
using System.Text;
using Aitbc.Core.Json;

namespace Aitbc.Chain.State;

/// <summary>The kinds of state entries, which are also their storage namespaces.</summary>
public static class StateKind
{
    public const string Account = "account";
    public const string Miner = "miner";
    public const string Escrow = "escrow";
    public const string Receipt = "receipt";
}

/// <summary>One state entry written by a block, with its canonical JSON value (what is stored and what the app hash covers).</summary>
public sealed record StateChange(string Kind, string Key, object Value)
{
    private byte[]? _json;

    public byte[] Json => _json ??= CanonicalJson.Serialize(Value, Value.GetType(), WireJson.Options);

    public static int Compare(StateChange a, StateChange b)
    {
        var byKind = string.CompareOrdinal(a.Kind, b.Kind);
        return byKind != 0 ? byKind : string.CompareOrdinal(a.Key, b.Key);
    }
}

/// <summary>
/// The app hash chains block by block: SHA-256(previous app hash ‖ for each changed entry in (kind, key) order:
/// kind ‖ 0x00 ‖ key ‖ 0x00 ‖ JCS(value) ‖ 0x00). It costs O(changes), and any node that re-executes a block
/// from the same state reaches the same hash.
/// </summary>
public static class AppHash
{
    public static readonly byte[] Empty = new byte[32];

    public static byte[] Next(ReadOnlySpan<byte> previous, IReadOnlyList<StateChange> sortedChanges)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(previous);
        ReadOnlySpan<byte> zero = [0];
        foreach (var change in sortedChanges)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(change.Kind));
            hash.AppendData(zero);
            hash.AppendData(Encoding.UTF8.GetBytes(change.Key));
            hash.AppendData(zero);
            hash.AppendData(change.Json);
            hash.AppendData(zero);
        }
        return hash.GetHashAndReset();
    }
}
