using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Client.Node;

/// <summary>
/// Reads CometBFT v0.38 JSON shapes (64-bit integers as strings, hashes upper hex, bytes base64) into the client's
/// records. A missing or mistyped field throws <see cref="FormatException"/>, which the client reports as a protocol error.
/// </summary>
internal static class CometReader
{
    /// <summary>For ledger JSON inside abci_query values: snake_case, and tolerant of fields a newer node may add.</summary>
    public static readonly JsonSerializerOptions LedgerJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public static JsonElement Prop(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v : throw new FormatException($"'{name}' is missing");

    public static string Str(JsonElement e, string name)
    {
        var v = Prop(e, name);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new FormatException($"'{name}' must be a string");
    }

    /// <summary>A string that may be absent or null (CometBFT omits empty fields in places).</summary>
    public static string OptStr(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    /// <summary>An integer sent as a string (CometBFT's int64) or as a number (its int32 and codes).</summary>
    public static long Long(JsonElement e, string name)
    {
        var v = Prop(e, name);
        return v.ValueKind switch
        {
            JsonValueKind.Number when v.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
            _ => throw new FormatException($"'{name}' must be an integer"),
        };
    }

    public static int Int(JsonElement e, string name) =>
        checked((int)Long(e, name));

    public static bool Bool(JsonElement e, string name)
    {
        var v = Prop(e, name);
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw new FormatException($"'{name}' must be a boolean");
    }

    public static DateTimeOffset Time(JsonElement e, string name) =>
        DateTimeOffset.TryParse(Str(e, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new FormatException($"'{name}' must be an RFC 3339 time");

    /// <summary>An array that CometBFT may send as null when empty.</summary>
    public static IEnumerable<JsonElement> Items(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray() : [];

    public static byte[] Base64(JsonElement e) =>
        e.ValueKind == JsonValueKind.String && e.TryGetBytesFromBase64(out var bytes) ? bytes : throw new FormatException("expected base64 bytes");

    public static ExecTxResult TxResult(JsonElement e) => new(
        (TxCode)checked((uint)Long(e, "code")),
        OptStr(e, "log"),
        OptStr(e, "info"),
        OptStr(e, "codespace"),
        [.. Items(e, "events").Select(ev => new AbciEvent(
            Str(ev, "type"),
            [.. Items(ev, "attributes").Select(a => new AbciEventAttribute(
                OptStr(a, "key"),
                OptStr(a, "value"),
                a.TryGetProperty("index", out var index) && index.ValueKind == JsonValueKind.True))]))]);

    public static BlockHeader Header(JsonElement h) => new(
        Str(h, "chain_id"),
        Long(h, "height"),
        Str(h, "time"),
        Str(Prop(h, "last_block_id"), "hash"),
        Str(h, "data_hash"),
        Str(h, "app_hash"),
        Str(h, "proposer_address"));

    public static TxInfo Tx(JsonElement t) => new(
        Str(t, "hash"),
        Long(t, "height"),
        Int(t, "index"),
        TxResult(Prop(t, "tx_result")),
        Base64(Prop(t, "tx")));

    public static ValidatorInfo Validator(JsonElement v) => new(
        Str(v, "address"),
        Ed25519PublicKey.TryParse(Str(Prop(v, "pub_key"), "value"), out var key) ? key : throw new FormatException("'pub_key.value' must be an Ed25519 key in base64"),
        Long(v, "voting_power"),
        v.TryGetProperty("proposer_priority", out _) ? Long(v, "proposer_priority") : 0);
}
