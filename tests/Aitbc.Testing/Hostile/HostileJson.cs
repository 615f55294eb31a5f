using System.Text;
using System.Text.Json.Nodes;
using CsCheck;

namespace Aitbc.Testing.Hostile;

/// <summary>
/// Hostile JSON: values that break types, ranges and encodings, and CsCheck generators of random mutations of a valid
/// body (a value replaced, a member removed, added or duplicated, the text truncated or a byte inserted, deep nesting).
/// </summary>
public static class HostileJson
{
    private const string Placeholder = "\u0001hostile\u0001";

    /// <summary>JSON texts of values no field should take without checking.</summary>
    public static readonly IReadOnlyList<string> Values =
    [
        "null", "true", "false", "0", "-1", "-0", "1.5", "1e400", "-1e400", "1e-400", "2147483648", "9223372036854775807",
        "9223372036854775808", "18446744073709551616", "-9223372036854775809", "0.000000000000000000000001", "123456789.123456789123456789",
        "\"\"", "\" \"", "\"x\"", "\"-1\"", "\"0\"", "\"1e400\"", "\"NaN\"", "\"Infinity\"", "\"18446744073709551616\"", "\"0.0000001\"",
        "\"\\ud800\"", "\"x\\udc00\"", "\"\\u0000\"", "\"\\u202eevil\"", "\"\\ud83d\\ude00\"", "\"\\uffff\"", "\"../../etc/passwd\"",
        "\"" + new string('x', 5_000) + "\"", "[]", "[1]", "[null]", "{}", "{\"a\":1}",
    ];

    private static readonly byte[] Garbage = "{}[]\",:\\x0-+.e"u8.ToArray().Concat(new byte[] { 0x00, 0xFF, 0xC0, 0xED, 0x1F }).ToArray();

    /// <summary>Arrays nested <paramref name="depth"/> deep.</summary>
    public static string DeepArray(int depth) => new string('[', depth) + new string(']', depth);

    /// <summary>Objects nested <paramref name="depth"/> deep.</summary>
    public static string DeepObject(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    /// <summary>Bodies no JSON endpoint may take, built from <paramref name="valid"/>; each with the statuses that are right for it.</summary>
    public static IEnumerable<(string Name, byte[] Body, string? ContentType, int[] Expected)> MalformedBodies(string valid)
    {
        var json = "application/json";
        var utf8 = Encoding.UTF8.GetBytes(valid);
        (string, byte[], string?, int[]) Text(string name, string body) => (name, Encoding.UTF8.GetBytes(body), json, [400]);
        yield return ("empty body", [], json, [400]);
        yield return Text("truncated to 1 byte", "{");
        yield return Text("truncated to half", valid[..(valid.Length / 2)]);
        yield return Text("truncated by 1 byte", valid[..^1]);
        yield return Text("array", "[]");
        yield return Text("array of the valid body", $"[{valid}]");
        yield return Text("null", "null");
        yield return Text("true", "true");
        yield return Text("number", "1");
        yield return Text("string", "\"x\"");
        yield return Text("empty object", "{}");
        yield return Text("trailing brace", valid + "}");
        yield return Text("trailing garbage", valid + "xyz");
        yield return Text("second value", valid + " {}");
        yield return Text("10k-deep arrays", HostileJson.DeepArray(10_000));
        yield return Text("10k-deep objects", HostileJson.DeepObject(10_000));
        yield return Text("65-deep objects", HostileJson.DeepObject(65));
        yield return Text("single quotes", valid.Replace('"', '\''));
        yield return Text("comment", "/* c */" + valid);
        yield return Text("trailing comma", valid[..^1] + ",}");
        yield return Text("NaN literal", "{\"x\":NaN}");
        yield return Text("hex literal", "{\"x\":0x10}");
        yield return Text("lone surrogate key", "{\"\\ud800\":1}");
        yield return ("duplicate first member", Mutate(valid, 5, 0, Values.ToList().IndexOf("\"x\""), 0).Body, json, [400]);
        yield return ("BOM before invalid JSON", [0xEF, 0xBB, 0xBF, .. "{"u8.ToArray()], json, [400]);
        yield return ("two BOMs", [0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF, .. utf8], json, [400]);
        yield return ("invalid UTF-8 byte in a string", Corrupt(utf8, [0xFF]), json, [400]);
        yield return ("overlong UTF-8 in a string", Corrupt(utf8, [0xC0, 0xAF]), json, [400]);
        yield return ("UTF-8-encoded surrogate in a string", Corrupt(utf8, [0xED, 0xA0, 0x80]), json, [400]);
        yield return ("raw NUL in a string", Corrupt(utf8, [0x00]), json, [400]);
        yield return ("raw newline in a string", Corrupt(utf8, [0x0A]), json, [400]);
        yield return ("UTF-16 body declared UTF-8", Encoding.Unicode.GetBytes(valid), json, [400]);
        yield return ("UTF-32 body declared UTF-8", Encoding.UTF32.GetBytes(valid), json, [400]);
        foreach (var type in new[] { null, "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", "json", ";;;", "application/" })
        {
            yield return ($"Content-Type {type ?? "(none)"}", utf8, type, [415]);
        }
    }

    /// <summary>The body with the first character of its first string value replaced by <paramref name="bytes"/>.</summary>
    private static byte[] Corrupt(byte[] body, byte[] bytes)
    {
        var quote = Array.IndexOf(body, (byte)':') + 2;
        return [.. body[..quote], .. bytes, .. body[(quote + 1)..]];
    }

    /// <summary>Random one-step mutations of <paramref name="validJson"/>.</summary>
    public static Gen<JsonMutation> Mutations(string validJson) =>
        Gen.Select(Gen.Int[0, 6], Gen.Int[0, 10_000], Gen.Int[0, Values.Count - 1], Gen.Int[0, 1_000_000], (op, at, value, offset) => Mutate(validJson, op, at, value, offset));

    /// <summary><paramref name="count"/> mutations drawn from a fixed seed: the same ones on every run.</summary>
    public static IReadOnlyList<JsonMutation> Sample(string validJson, int count, ulong seed)
    {
        var pcg = new PCG(7, seed);
        var gen = Mutations(validJson);
        return [.. Enumerable.Range(0, count).Select(_ => gen.Generate(pcg, null, out Size _))];
    }

    /// <summary>
    /// <paramref name="validJson"/> with the member at <paramref name="path"/> (dots between names, [i] for elements:
    /// "options.temperature", "models[0]") set to the raw JSON text <paramref name="rawValue"/>, or removed when it is null.
    /// </summary>
    public static string With(string validJson, string path, string? rawValue)
    {
        var root = JsonNode.Parse(validJson)!;
        var steps = path.Replace("[", ".[", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);
        var parent = root;
        foreach (var step in steps[..^1])
        {
            parent = step.StartsWith('[') ? parent[int.Parse(step[1..^1], System.Globalization.CultureInfo.InvariantCulture)]! : parent[step]!;
        }
        var last = steps[^1];
        var index = last.StartsWith('[') ? int.Parse(last[1..^1], System.Globalization.CultureInfo.InvariantCulture) : -1;
        if (rawValue is null)
        {
            if (index >= 0)
            {
                parent.AsArray().RemoveAt(index);
            }
            else
            {
                parent.AsObject().Remove(last);
            }
            return root.ToJsonString();
        }
        if (index >= 0)
        {
            parent[index] = Placeholder;
        }
        else
        {
            parent[last] = Placeholder;
        }
        return Encoding.UTF8.GetString(Fill(root, rawValue));
    }

    /// <summary>
    /// Mutation <paramref name="op"/> of <paramref name="validJson"/>: 0 replace a value, 1 remove it, 2 add a member, 3 truncate,
    /// 4 insert a byte, 5 duplicate a member, 6 nest deep; <paramref name="at"/>, <paramref name="value"/> and <paramref name="offset"/> pick where and what.
    /// </summary>
    public static JsonMutation Mutate(string validJson, int op, int at, int value, int offset)
    {
        var bytes = Encoding.UTF8.GetBytes(validJson);
        switch (op)
        {
            case 3:
                var cut = offset % bytes.Length;
                return new JsonMutation($"truncated to {cut} bytes", bytes[..cut]);
            case 4:
                var position = offset % (bytes.Length + 1);
                var inserted = Garbage[value % Garbage.Length];
                return new JsonMutation($"byte 0x{inserted:x2} inserted at {position}", [.. bytes[..position], inserted, .. bytes[position..]]);
        }
        var root = JsonNode.Parse(validJson)!;
        var places = Places(root).ToList();
        var (parent, name, index) = places[at % places.Count];
        var where = name ?? $"[{index}]";
        switch (op)
        {
            case 0:
                return Replace(root, parent, name, index, Values[value], $"{where} := {HostileCase.Shorten(Values[value])}");
            case 1:
                if (parent is JsonObject o)
                {
                    o.Remove(name!);
                }
                else
                {
                    ((JsonArray)parent).RemoveAt(index);
                }
                return new JsonMutation($"{where} removed", Encoding.UTF8.GetBytes(root.ToJsonString()));
            case 2:
                var objects = Objects(root);
                var extended = objects[at % objects.Count];
                extended[$"x{offset}"] = Placeholder;
                return new JsonMutation($"extra member x{offset} = {HostileCase.Shorten(Values[value])}", Fill(root, Values[value]));
            case 5:
                var candidates = Objects(root).Where(o => o.Count > 0).ToList();
                if (candidates.Count == 0)
                {
                    return Replace(root, parent, name, index, Values[value], $"{where} := {HostileCase.Shorten(Values[value])}");
                }
                var duplicated = candidates[at % candidates.Count];
                var first = duplicated.First().Key;
                var doubled = $"{{{System.Text.Json.JsonSerializer.Serialize(first)}:{Values[value]},{duplicated.ToJsonString()[1..]}";
                var description = $"duplicate {first} = {HostileCase.Shorten(Values[value])}";
                return duplicated.Parent is null
                    ? new JsonMutation(description, Encoding.UTF8.GetBytes(doubled))
                    : Replace(root, duplicated.Parent, duplicated.Parent is JsonObject ? duplicated.GetPropertyName() : null,
                        duplicated.Parent is JsonArray ? duplicated.GetElementIndex() : 0, doubled, description);
            default:
                var deep = offset % 2 == 0 ? DeepArray(65 + (offset % 5000)) : DeepObject(65 + (offset % 5000));
                return Replace(root, parent, name, index, deep, $"{where} := nesting {65 + (offset % 5000)} deep");
        }
    }

    private static List<JsonObject> Objects(JsonNode root) =>
        [.. new[] { root }.Concat(Places(root).Select(p => p.Name is null ? p.Parent[p.Index] : p.Parent[p.Name])).OfType<JsonObject>()];

    private static JsonMutation Replace(JsonNode root, JsonNode parent, string? name, int index, string rawValue, string description)
    {
        if (parent is JsonObject o)
        {
            o[name!] = Placeholder;
        }
        else
        {
            ((JsonArray)parent)[index] = Placeholder;
        }
        return new JsonMutation(description, Fill(root, rawValue));
    }

    private static byte[] Fill(JsonNode root, string rawValue)
    {
        var text = root.ToJsonString();
        var quoted = System.Text.Json.JsonSerializer.Serialize(Placeholder);
        return Encoding.UTF8.GetBytes(text.Replace(quoted, rawValue, StringComparison.Ordinal));
    }

    /// <summary>Every member and element of the tree: its container and its name or index.</summary>
    private static IEnumerable<(JsonNode Parent, string? Name, int Index)> Places(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o.ToList())
                {
                    yield return (o, key, 0);
                    if (child is not null)
                    {
                        foreach (var place in Places(child))
                        {
                            yield return place;
                        }
                    }
                }
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return (a, null, i);
                    if (a[i] is { } child)
                    {
                        foreach (var place in Places(child))
                        {
                            yield return place;
                        }
                    }
                }
                break;
        }
    }
}
