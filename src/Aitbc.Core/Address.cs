using System.Text.Json;
using System.Text.Json.Serialization;
using Aitbc.Core.Crypto;

namespace Aitbc.Core;

/// <summary>An account address: bech32 (BIP-173), HRP <c>aitbc</c>, over the first 20 bytes of SHA-256(public key).</summary>
[JsonConverter(typeof(AddressJsonConverter))]
public readonly record struct Address : IComparable<Address>
{
    public const string Hrp = "aitbc";
    public const int PayloadLength = 20;

    private Address(string value) => Value = value;

    public string Value { get; }

    public static Address FromPublicKey(Ed25519PublicKey key) =>
        FromPayload(Hashing.Sha256(key.Bytes).AsSpan(0, PayloadLength));

    public static Address FromPayload(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != PayloadLength)
        {
            throw new ArgumentException($"an address payload is {PayloadLength} bytes", nameof(payload));
        }
        return new Address(Bech32.Encode(Hrp, payload));
    }

    private const int MaxCachedAddresses = 100_000;

    // Recipients repeat far more often than they are new; a known spelling skips the bech32 checksum work.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Address> Parsed = new(StringComparer.Ordinal);

    public static bool TryParse(string? text, out Address address)
    {
        if (text is not null && Parsed.TryGetValue(text, out address))
        {
            return true;
        }
        address = default;
        if (!Bech32.TryDecode(text, out var hrp, out var data) || hrp != Hrp || data.Length != PayloadLength)
        {
            return false;
        }
        // Stored lower-case: bech32 allows an all-upper spelling, but one address has one key in the ledger.
        address = new Address(text!.ToLowerInvariant());
        if (Parsed.Count >= MaxCachedAddresses)
        {
            Parsed.Clear();
        }
        Parsed.TryAdd(text, address);
        return true;
    }

    public static Address Parse(string text) =>
        TryParse(text, out var a) ? a : throw new FormatException($"'{text}' is not an aitbc1… address");

    public byte[] Payload() => Bech32.TryDecode(Value, out _, out var data) ? data : throw new InvalidOperationException("empty address");

    public bool IsEmpty => Value is null;

    public int CompareTo(Address other) => string.CompareOrdinal(Value, other.Value);

    public override string ToString() => Value ?? "";
}

public sealed class AddressJsonConverter : JsonConverter<Address>
{
    public override Address Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && Address.TryParse(reader.GetString(), out var a)
            ? a
            : throw new JsonException("an address must be a bech32 string starting with aitbc1");

    public override void Write(Utf8JsonWriter writer, Address value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Value);
}
