using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Json;

namespace Aitbc.Core.Tests.Json;

public class CanonicalJsonTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Canonicalize(Encoding.UTF8.GetBytes(json)));

    private static bool IsCanonical(string json) => CanonicalJson.IsCanonical(Encoding.UTF8.GetBytes(json));

    /// <summary>RFC 8785 §3.2.2: the example with numbers, string escapes and literals.</summary>
    [Fact]
    public void Rfc8785_primitives_example_canonicalizes_as_published()
    {
        const string input = """
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """;
        const string expected = """{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}""";

        Assert.Equal(expected, Canonical(input));
    }

    /// <summary>RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.</summary>
    [Fact]
    public void Rfc8785_sorting_example_orders_names_by_utf16_code_units()
    {
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "\r": "Carriage Return",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "1": "One",
              "\ud83d\ude00": "Emoji: Grinning Face",
              "\u0080": "Control",
              "\u00f6": "Latin Small Letter O With Diaeresis"
            }
            """;
        var expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u0080\":\"Control\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
            + "\"\u20ac\":\"Euro Sign\",\"\U0001F600\":\"Emoji: Grinning Face\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";

        Assert.Equal(expected, Canonical(input));
    }

    /// <summary>cyberphone/json-canonicalization testdata (the RFC 8785 reference implementation): structures.json.</summary>
    [Fact]
    public void Reference_structures_vector_sorts_nested_objects()
    {
        const string input = """
            {
              "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
              "10": { },
              "": "empty",
              "a": { },
              "111": [ { } ],
              "A": { }
            }
            """;
        const string expected = """{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}""";

        Assert.Equal(expected, Canonical(input));
    }

    /// <summary>cyberphone/json-canonicalization testdata: weird.json.</summary>
    [Fact]
    public void Reference_weird_vector_keeps_non_ascii_and_del_unescaped()
    {
        const string input = """
            {
              "\u20ac": "Euro Sign",
              "1": "One",
              "\u0080": "Control\u007f",
              "\ud83d\ude02": "Smiley",
              "\u00f6": "Latin Small Letter O With Diaeresis",
              "\ufb33": "Hebrew Letter Dalet With Dagesh",
              "</script>": "Browser Challenge"
            }
            """;
        var expected = "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\u0080\":\"Control\u007f\",\"\u00f6\":\"Latin Small Letter O With Diaeresis\","
            + "\"\u20ac\":\"Euro Sign\",\"\U0001F602\":\"Smiley\",\"\ufb33\":\"Hebrew Letter Dalet With Dagesh\"}";

        Assert.Equal(expected, Canonical(input));
    }

    /// <summary>cyberphone/json-canonicalization testdata: arrays.json.</summary>
    [Fact]
    public void Reference_arrays_vector_keeps_array_order_and_sorts_members()
    {
        const string input = """
            [
              56,
              {
                "d": true,
                "10": null,
                "1": [ ]
              }
            ]
            """;

        Assert.Equal("""[56,{"1":[],"10":null,"d":true}]""", Canonical(input));
    }

    /// <summary>RFC 8785 Appendix B: IEEE 754 bit patterns and their required ECMAScript serialization.</summary>
    [Theory]
    [InlineData("0000000000000000", "0")] // zero
    [InlineData("8000000000000000", "0")] // minus zero
    [InlineData("0000000000000001", "5e-324")] // min pos number
    [InlineData("8000000000000001", "-5e-324")] // min neg number
    [InlineData("7fefffffffffffff", "1.7976931348623157e+308")] // max pos number
    [InlineData("ffefffffffffffff", "-1.7976931348623157e+308")] // max neg number
    [InlineData("4340000000000000", "9007199254740992")] // max pos int
    [InlineData("c340000000000000", "-9007199254740992")] // max neg int
    [InlineData("4430000000000000", "295147905179352830000")] // ~2**68
    [InlineData("44b52d02c7e14af5", "9.999999999999997e+22")]
    [InlineData("44b52d02c7e14af6", "1e+23")]
    [InlineData("44b52d02c7e14af7", "1.0000000000000001e+23")]
    [InlineData("444b1ae4d6e2ef4e", "999999999999999700000")]
    [InlineData("444b1ae4d6e2ef4f", "999999999999999900000")]
    [InlineData("444b1ae4d6e2ef50", "1e+21")]
    [InlineData("3eb0c6f7a0b5ed8c", "9.999999999999997e-7")]
    [InlineData("3eb0c6f7a0b5ed8d", "0.000001")]
    [InlineData("41b3de4355555553", "333333333.3333332")]
    [InlineData("41b3de4355555554", "333333333.33333325")]
    [InlineData("41b3de4355555555", "333333333.3333333")]
    [InlineData("41b3de4355555556", "333333333.3333334")]
    [InlineData("41b3de4355555557", "333333333.33333343")]
    [InlineData("becbf647612f3696", "-0.0000033333333333333333")]
    [InlineData("43143ff3c1cb0959", "1424953923781206.2")] // round to even
    public void FormatDouble_matches_rfc8785_appendix_b(string ieee754Hex, string expected)
    {
        var value = BitConverter.Int64BitsToDouble(long.Parse(ieee754Hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        Assert.Equal(expected, CanonicalJson.FormatDouble(value));
    }

    [Theory]
    [InlineData("7fffffffffffffff")] // NaN
    [InlineData("7ff0000000000000")] // Infinity
    [InlineData("fff0000000000000")] // -Infinity
    public void FormatDouble_rejects_nan_and_infinity(string ieee754Hex)
    {
        var value = BitConverter.Int64BitsToDouble(long.Parse(ieee754Hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture));

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.FormatDouble(value));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(-1.5, "-1.5")]
    [InlineData(1e20, "100000000000000000000")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e-6, "0.000001")]
    [InlineData(1e-7, "1e-7")]
    [InlineData(1.5e-7, "1.5e-7")]
    [InlineData(123e-20, "1.23e-18")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(1e15, "1000000000000000")]
    [InlineData(12.5, "12.5")]
    public void FormatDouble_follows_ecmascript_number_tostring(double value, string expected)
    {
        Assert.Equal(expected, CanonicalJson.FormatDouble(value));
    }

    [Theory]
    [InlineData("-0", "0")]
    [InlineData("-0.0", "0")]
    [InlineData("0.0", "0")]
    [InlineData("1.0", "1")]
    [InlineData("100", "100")]
    [InlineData("-42", "-42")]
    [InlineData("1E30", "1e+30")]
    [InlineData("1e-7", "1e-7")]
    [InlineData("4.50", "4.5")]
    [InlineData("123456789012345", "123456789012345")]
    [InlineData("1234567890123456", "1234567890123456")]
    [InlineData("9007199254740993", "9007199254740992")] // not a double: rounds to the nearest one
    [InlineData("-9223372036854775808", "-9223372036854776000")]
    [InlineData("18446744073709551615", "18446744073709552000")]
    public void Numbers_are_written_in_their_ecmascript_form(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    public void Numbers_outside_the_double_range_are_rejected(string input)
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
    }

    [Theory]
    [InlineData("\"\\u000B\"", "\"\\u000b\"")]
    [InlineData("\"\\u001f\"", "\"\\u001f\"")]
    [InlineData("\"\\u0000\"", "\"\\u0000\"")]
    [InlineData("\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\"\\u0008\\u000c\\u000a\\u000d\\u0009\"", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\"\\/\"", "\"/\"")]
    [InlineData("\"\\u0041\"", "\"A\"")]
    [InlineData("\"\\u00e9\"", "\"é\"")]
    [InlineData("\"\\u2028\"", "\"\u2028\"")]
    [InlineData("\"\\u007f\"", "\"\u007f\"")]
    [InlineData("\"<>&'\"", "\"<>&'\"")]
    [InlineData("\"\\\"\\\\\"", "\"\\\"\\\\\"")]
    public void Strings_use_the_minimal_escaping_rfc8785_requires(string input, string expected)
    {
        Assert.Equal(expected, Canonical(input));
    }

    [Fact]
    public void Surrogate_pair_is_written_as_four_utf8_bytes()
    {
        var bytes = CanonicalJson.Canonicalize("\"\\ud83d\\ude00\""u8);

        Assert.Equal(new byte[] { 0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22 }, bytes);
    }

    [Theory]
    [InlineData("{\"a\":1,\"a\":2}")]
    [InlineData("{\"a\":1,\"b\":2,\"a\":1}")]
    [InlineData("{\"x\":{\"k\":1,\"k\":1}}")]
    [InlineData("[{\"k\":true,\"k\":false}]")]
    [InlineData("{\"\\u0061\":1,\"a\":2}")] // the same name spelled two ways
    public void Duplicate_member_names_are_rejected(string input)
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
    }

    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"\\udc00\"")]
    [InlineData("\"a\\ud83d\"")]
    [InlineData("\"\\ude00\\ud83d\"")] // a pair in the wrong order
    [InlineData("{\"\\ud800\":1}")]
    public void Lone_surrogates_are_rejected(string input)
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
    }

    [Fact]
    public void Invalid_utf8_is_rejected()
    {
        byte[] input = [0x22, 0xff, 0x22];

        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Canonicalize(input));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{\"a\":1,}")]
    [InlineData("[1,]")]
    [InlineData("{a:1}")]
    [InlineData("'a'")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("01")]
    [InlineData("{} {}")]
    [InlineData("1 2")]
    [InlineData("/* comment */ 1")]
    public void Invalid_json_is_rejected(string input)
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
    }

    [Fact]
    public void Nesting_deeper_than_64_is_rejected()
    {
        var input = new string('[', 65) + new string(']', 65);

        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
    }

    [Fact]
    public void Leading_and_trailing_whitespace_is_dropped()
    {
        Assert.Equal("{\"a\":1}", Canonical(" \t\r\n{ \"a\" : 1 }\n "));
    }

    [Fact]
    public void Nested_objects_are_sorted_at_every_level_and_arrays_keep_their_order()
    {
        const string input = """{"z":[3,1,2,{"b":1,"a":[{"d":0,"c":0}]}],"a":{"y":true,"x":null}}""";
        const string expected = """{"a":{"x":null,"y":true},"z":[3,1,2,{"a":[{"c":0,"d":0}],"b":1}]}""";

        Assert.Equal(expected, Canonical(input));
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("false")]
    [InlineData("0")]
    [InlineData("\"\"")]
    [InlineData("{\"a\":[1,\"x\",null,{}],\"b\":{\"c\":false}}")]
    [InlineData("{\"\\r\":1,\"1\":2,\"\u00f6\":3}")]
    public void IsCanonical_is_true_for_canonical_text(string input)
    {
        Assert.True(IsCanonical(input));
    }

    [Theory]
    [InlineData("{ }")]
    [InlineData("{\"a\": 1}")]
    [InlineData("{\"a\":1}\n")]
    [InlineData(" {\"a\":1}")]
    [InlineData("[1, 2]")]
    [InlineData("{\"b\":1,\"a\":2}")]
    [InlineData("{\"a\":{\"d\":1,\"c\":2}}")]
    [InlineData("{\"a\":1.0}")]
    [InlineData("{\"a\":1E3}")]
    [InlineData("{\"a\":-0}")]
    [InlineData("\"\\u0041\"")]
    [InlineData("\"\\/\"")]
    [InlineData("\"\\u00e9\"")]
    [InlineData("{\"a\":1,\"a\":1}")]
    [InlineData("{")]
    [InlineData("")]
    public void IsCanonical_is_false_for_anything_else(string input)
    {
        Assert.False(IsCanonical(input));
    }

    [Fact]
    public void Serialize_omits_the_named_property_only_at_the_top_level()
    {
        using var document = JsonDocument.Parse("""{"signature":"s","b":{"signature":"inner"},"a":1}""");

        var bytes = CanonicalJson.Serialize(document.RootElement, omitTopLevelProperty: "signature");

        Assert.Equal("""{"a":1,"b":{"signature":"inner"}}""", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Serialize_of_a_typed_value_uses_the_given_options_and_sorts()
    {
        var value = new { ZetaField = 1, AlphaField = "x" };

        var bytes = CanonicalJson.Serialize(value, WireJson.Options);

        Assert.Equal("""{"alpha_field":"x","zeta_field":1}""", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Serialize_of_a_node_undoes_the_serializers_html_escaping()
    {
        var node = new JsonObject { ["b"] = "<a href='x'>&+</a>", ["a"] = "é" };

        var text = Encoding.UTF8.GetString(CanonicalJson.Serialize(node));

        Assert.Equal("{\"a\":\"é\",\"b\":\"<a href='x'>&+</a>\"}", text);
    }

    [Fact]
    public void SerializeToString_matches_the_utf8_bytes()
    {
        using var document = JsonDocument.Parse("""{"b":"€","a":1}""");

        Assert.Equal("{\"a\":1,\"b\":\"€\"}", CanonicalJson.SerializeToString(document.RootElement));
    }

    [Fact]
    public void Canonicalize_is_idempotent()
    {
        var once = CanonicalJson.Canonicalize("""{ "b" : [ 1.50 , "\u00e9" ], "a" : { "d" : 1e2 , "c" : null } }"""u8);

        var twice = CanonicalJson.Canonicalize(once);

        Assert.Equal(once, twice);
        Assert.True(CanonicalJson.IsCanonical(once));
    }
}
