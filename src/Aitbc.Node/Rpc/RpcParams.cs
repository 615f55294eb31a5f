using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Node.Rpc;

/// <summary>
/// A method's named parameters, from a JSON-RPC params object (bytes as base64) or from a GET query
/// (CometBFT URI style: bytes as 0x-hex or base64, strings optionally in double quotes).
/// </summary>
public sealed class RpcParams
{
    private readonly JsonElement? _object;
    private readonly IQueryCollection? _query;

    private RpcParams(JsonElement? obj, IQueryCollection? query)
    {
        _object = obj;
        _query = query;
    }

    public static readonly RpcParams Empty = new(null, null);

    public static RpcParams FromJson(JsonElement? element)
    {
        if (element is null || element.Value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return Empty;
        }
        if (element.Value.ValueKind == JsonValueKind.Array && element.Value.GetArrayLength() == 0)
        {
            return Empty;
        }
        if (element.Value.ValueKind != JsonValueKind.Object)
        {
            throw RpcException.InvalidParams("params must be an object of named parameters");
        }
        // No clone: the request document outlives every handler that reads these params.
        return new RpcParams(element.Value, null);
    }

    public static RpcParams FromQuery(IQueryCollection query) => new(null, query);

    private bool TryGetRaw(string name, out JsonElement element, out string? text)
    {
        element = default;
        text = null;
        if (_object is { } obj)
        {
            if (obj.TryGetProperty(name, out element) && element.ValueKind != JsonValueKind.Null)
            {
                return true;
            }
            return false;
        }
        if (_query is not null && _query.TryGetValue(name, out var values) && values.Count > 0 && values[0] is { Length: > 0 } value)
        {
            text = value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
            return true;
        }
        return false;
    }

    public string? GetString(string name)
    {
        if (!TryGetRaw(name, out var element, out var text))
        {
            return null;
        }
        if (text is not null)
        {
            return text;
        }
        return Text(name, element, $"{name} must be a string");
    }

    /// <summary>A JSON string's text; an escaped lone surrogate is not text, and is refused like any other bad value.</summary>
    private static string Text(string name, JsonElement element, string wrongKind)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw RpcException.InvalidParams(wrongKind);
        }
        return JsonRpcEndpoint.TryGetText(element, out var text) ? text : throw RpcException.InvalidParams($"{name} is not valid Unicode text");
    }

    public long? GetInt64(string name)
    {
        if (!TryGetRaw(name, out var element, out var text))
        {
            return null;
        }
        if (text is null)
        {
            if (element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out var n))
            {
                return n;
            }
            text = Text(name, element, $"{name} must be an integer");
        }
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return TryParseInt64(text, out var value) ? value : throw RpcException.InvalidParams($"{name} must be an integer, got '{text}'");
    }

    /// <summary>
    /// An optional sign and ASCII digits, nothing else: long.TryParse alone also takes trailing NUL characters
    /// ("1\0" reads as 1), so a value the client did not write could be served.
    /// </summary>
    public static bool TryParseInt64(string text, out long value)
    {
        value = 0;
        var digits = text.AsSpan(text.Length > 0 && text[0] is '-' or '+' ? 1 : 0);
        return !digits.IsEmpty && !digits.ContainsAnyExceptInRange('0', '9')
            && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public bool GetBool(string name)
    {
        if (!TryGetRaw(name, out var element, out var text))
        {
            return false;
        }
        if (text is not null)
        {
            return text is "true" ? true : text is "false" ? false : throw RpcException.InvalidParams($"{name} must be true or false");
        }
        return element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw RpcException.InvalidParams($"{name} must be a boolean"),
        };
    }

    /// <summary>Bytes: base64 in JSON; in a query 0x-prefixed hex or base64.</summary>
    public byte[]? GetBytes(string name)
    {
        if (!TryGetRaw(name, out var element, out var text))
        {
            return null;
        }
        if (text is null)
        {
            return DecodeBase64(name, Text(name, element, $"{name} must be a base64 string"));
        }
        if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return Convert.FromHexString(text.AsSpan(2));
            }
            catch (FormatException)
            {
                throw RpcException.InvalidParams($"{name} is not valid hex");
            }
        }
        return DecodeBase64(name, text);
    }

    /// <summary>A hash given as hex (optionally 0x) or base64 of its 32 bytes; returns upper hex.</summary>
    public string? GetHash(string name)
    {
        var text = GetString(name);
        if (text is null)
        {
            return null;
        }
        var hex = text.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        if (hex.Length == 64 && hex.All(char.IsAsciiHexDigit))
        {
            return hex.ToUpperInvariant();
        }
        var bytes = new byte[32];
        if (Convert.TryFromBase64String(text, bytes, out var written) && written == 32)
        {
            return Convert.ToHexString(bytes);
        }
        throw RpcException.InvalidParams($"{name} must be a 32-byte hash in hex or base64");
    }

    private static byte[] DecodeBase64(string name, string text)
    {
        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            throw RpcException.InvalidParams($"{name} is not valid base64");
        }
    }
}
