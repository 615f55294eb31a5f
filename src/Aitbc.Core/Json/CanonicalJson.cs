using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Aitbc.Core.Json;

/// <summary>RFC 8785 JSON Canonicalization Scheme (JCS): the only byte form the protocol hashes or signs.</summary>
public static class CanonicalJson
{
    private static readonly JsonDocumentOptions StrictDocument = new() { MaxDepth = 64 };

    public static byte[] Serialize(JsonElement element, string? omitTopLevelProperty = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(buffer, element, omitTopLevelProperty, depth: 0);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Serialize(JsonNode? node)
    {
        var element = JsonSerializer.SerializeToElement(node);
        return Serialize(element);
    }

    public static byte[] Serialize<T>(T value, JsonSerializerOptions? options = null) =>
        Serialize(JsonSerializer.SerializeToElement(value, options));

    public static byte[] Serialize(object value, Type type, JsonSerializerOptions? options = null) =>
        Serialize(JsonSerializer.SerializeToElement(value, type, options));

    public static string SerializeToString(JsonElement element) => Encoding.UTF8.GetString(Serialize(element));

    /// <summary>Parses any JSON text and returns its canonical bytes; throws <see cref="CanonicalJsonException"/> for input JCS cannot represent.</summary>
    public static byte[] Canonicalize(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = StrictDocument.MaxDepth });
            using var document = JsonDocument.ParseValue(ref reader);
            if (reader.BytesConsumed != json.Length && !IsTrailingWhitespace(json[(int)reader.BytesConsumed..]))
            {
                throw new CanonicalJsonException("trailing data after the JSON value");
            }
            return Serialize(document.RootElement);
        }
        catch (JsonException e)
        {
            throw new CanonicalJsonException($"invalid JSON: {e.Message}");
        }
    }

    public static bool IsCanonical(ReadOnlySpan<byte> json)
    {
        try
        {
            return Canonicalize(json).AsSpan().SequenceEqual(json);
        }
        catch (CanonicalJsonException)
        {
            return false;
        }
    }

    private static bool IsTrailingWhitespace(ReadOnlySpan<byte> rest)
    {
        foreach (var b in rest)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }
        return true;
    }

    private static void Write(ArrayBufferWriter<byte> output, JsonElement element, string? omit, int depth)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(output, element, omit, depth);
                break;
            case JsonValueKind.Array:
                output.Write("["u8);
                var first = true;
                foreach (var item in element.EnumerateArray())
                {
                    if (!first)
                    {
                        output.Write(","u8);
                    }
                    first = false;
                    Write(output, item, null, depth + 1);
                }
                output.Write("]"u8);
                break;
            case JsonValueKind.String:
                WriteString(output, GetString(element));
                break;
            case JsonValueKind.Number:
                WriteAscii(output, FormatNumber(element));
                break;
            case JsonValueKind.True:
                output.Write("true"u8);
                break;
            case JsonValueKind.False:
                output.Write("false"u8);
                break;
            case JsonValueKind.Null:
                output.Write("null"u8);
                break;
            default:
                throw new CanonicalJsonException($"unsupported JSON value kind {element.ValueKind}");
        }
    }

    private static void WriteObject(ArrayBufferWriter<byte> output, JsonElement element, string? omit, int depth)
    {
        var properties = new List<(string Name, JsonElement Value)>();
        foreach (var property in element.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException e)
            {
                throw new CanonicalJsonException($"invalid property name: {e.Message}");
            }
            if (depth == 0 && omit is not null && name == omit)
            {
                continue;
            }
            properties.Add((name, property.Value));
        }
        // JCS orders members by their names' UTF-16 code units, which is what ordinal comparison does.
        properties.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        output.Write("{"u8);
        for (var i = 0; i < properties.Count; i++)
        {
            if (i > 0)
            {
                if (string.Equals(properties[i - 1].Name, properties[i].Name, StringComparison.Ordinal))
                {
                    throw new CanonicalJsonException($"duplicate property \"{properties[i].Name}\"");
                }
                output.Write(","u8);
            }
            WriteString(output, properties[i].Name);
            output.Write(":"u8);
            Write(output, properties[i].Value, null, depth + 1);
        }
        output.Write("}"u8);
    }

    private static string GetString(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new CanonicalJsonException($"invalid string: {e.Message}");
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> output, string value)
    {
        output.Write("\""u8);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"': output.Write("\\\""u8); continue;
                case '\\': output.Write("\\\\"u8); continue;
                case '\b': output.Write("\\b"u8); continue;
                case '\f': output.Write("\\f"u8); continue;
                case '\n': output.Write("\\n"u8); continue;
                case '\r': output.Write("\\r"u8); continue;
                case '\t': output.Write("\\t"u8); continue;
            }
            if (c < 0x20)
            {
                WriteAscii(output, string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"));
            }
            else if (c < 0x80)
            {
                output.GetSpan(1)[0] = (byte)c;
                output.Advance(1);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                var written = Encoding.UTF8.GetBytes(value.AsSpan(i, 2), output.GetSpan(4));
                output.Advance(written);
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw new CanonicalJsonException("a string contains a lone surrogate, which I-JSON forbids");
            }
            else
            {
                var written = Encoding.UTF8.GetBytes(value.AsSpan(i, 1), output.GetSpan(3));
                output.Advance(written);
            }
        }
        output.Write("\""u8);
    }

    private static void WriteAscii(ArrayBufferWriter<byte> output, string ascii)
    {
        var span = output.GetSpan(ascii.Length);
        for (var i = 0; i < ascii.Length; i++)
        {
            span[i] = (byte)ascii[i];
        }
        output.Advance(ascii.Length);
    }

    private static string FormatNumber(JsonElement element)
    {
        var raw = element.GetRawText();
        if (IsSmallPlainInteger(raw))
        {
            return raw == "-0" ? "0" : raw;
        }
        if (!element.TryGetDouble(out var value) || !double.IsFinite(value))
        {
            throw new CanonicalJsonException($"number {raw} is outside the IEEE 754 double range");
        }
        return FormatDouble(value);
    }

    // Integers of up to 15 digits are exact doubles whose ECMAScript form is the digits themselves.
    private static bool IsSmallPlainInteger(string raw)
    {
        var start = raw.StartsWith('-') ? 1 : 0;
        var digits = raw.Length - start;
        if (digits is < 1 or > 15 || (digits > 1 && raw[start] == '0'))
        {
            return false;
        }
        for (var i = start; i < raw.Length; i++)
        {
            if (raw[i] is < '0' or > '9')
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>ECMAScript Number.prototype.toString for a finite double, as RFC 8785 §3.2.2.3 requires.</summary>
    public static string FormatDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new CanonicalJsonException("NaN and Infinity have no JSON form");
        }
        if (value == 0)
        {
            return "0";
        }
        var negative = value < 0;
        // "R" yields the shortest round-tripping digits, the same digit string ECMAScript picks.
        var shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        var ePos = shortest.IndexOfAny(['E', 'e']);
        var mantissa = ePos < 0 ? shortest : shortest[..ePos];
        var exponent = ePos < 0 ? 0 : int.Parse(shortest[(ePos + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var dot = mantissa.IndexOf('.');
        var intPart = dot < 0 ? mantissa : mantissa[..dot];
        var fracPart = dot < 0 ? "" : mantissa[(dot + 1)..];
        var digits = intPart + fracPart;
        var n = intPart.Length + exponent;
        var leading = 0;
        while (leading < digits.Length - 1 && digits[leading] == '0')
        {
            leading++;
        }
        digits = digits[leading..];
        n -= leading;
        digits = digits.TrimEnd('0');
        var k = digits.Length;

        var sb = new StringBuilder(32);
        if (negative)
        {
            sb.Append('-');
        }
        if (k <= n && n <= 21)
        {
            sb.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            sb.Append(digits[0]);
            if (k > 1)
            {
                sb.Append('.').Append(digits, 1, k - 1);
            }
            sb.Append('e').Append(e >= 0 ? '+' : '-').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}

/// <summary>Input that has no canonical JSON form (invalid JSON, duplicate names, lone surrogates, non-finite numbers).</summary>
public sealed class CanonicalJsonException(string message) : Exception(message);
