using Aitbc.Core.Crypto;

namespace Aitbc.Core.Tests.Crypto;

/// <summary>Test vectors from BIP-173 ("Test vectors" section of bip-0173.mediawiki).</summary>
public class Bech32Tests
{
    private static readonly string EightyTwoZeroWords = "11" + new string('q', 82) + "c8247j";

    public static TheoryData<string> ValidBip173Strings => new()
    {
        "A12UEL5L",
        "a12uel5l",
        "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
        "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
        EightyTwoZeroWords,
        "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
        "?1ezyfcl",
    };

    public static TheoryData<string, string> InvalidBip173Strings => new()
    {
        { "\u0020" + "1nwldj5", "HRP character out of range" },
        { "\u007f" + "1axkwrx", "HRP character out of range" },
        { "\u0080" + "1eym55h", "HRP character out of range" },
        { "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx", "overall max length exceeded" },
        { "pzry9x0s0muk", "no separator character" },
        { "1pzry9x0s0muk", "empty HRP" },
        { "x1b4n0q5v", "invalid data character" },
        { "li1dgmt3", "too short checksum" },
        { "de1lg7wt" + "\u00ff", "invalid character in checksum" },
        { "A1G7SGD8", "checksum calculated with uppercase form of HRP" },
        { "10a06t8", "empty HRP" },
        { "1qzzfhee", "empty HRP" },
        { "a12UEL5L", "mixed case" },
        { "A12uEL5L", "mixed case" },
    };

    [Fact]
    public void The_82_zero_word_vector_is_90_characters_long()
    {
        Assert.Equal(90, EightyTwoZeroWords.Length);
    }

    [Theory]
    [MemberData(nameof(ValidBip173Strings))]
    public void Valid_bip173_string_decodes(string text)
    {
        var decoded = Bech32.TryDecodeWords(text, out var hrp, out var words);

        Assert.True(decoded);
        Assert.Equal(text[..text.LastIndexOf('1')].ToLowerInvariant(), hrp);
        Assert.Equal(text.Length - hrp.Length - 1 - 6, words.Length);
    }

    [Theory]
    [MemberData(nameof(ValidBip173Strings))]
    public void Valid_bip173_string_re_encodes_to_its_lower_case_form(string text)
    {
        Assert.True(Bech32.TryDecodeWords(text, out var hrp, out var words));

        var encoded = Bech32.EncodeWords(hrp, words);

        Assert.Equal(text.ToLowerInvariant(), encoded);
    }

    [Theory]
    [MemberData(nameof(InvalidBip173Strings))]
    public void Invalid_bip173_string_is_rejected(string text, string reason)
    {
        var decoded = Bech32.TryDecodeWords(text, out var hrp, out var words);

        Assert.False(decoded, reason);
        Assert.Equal("", hrp);
        Assert.Empty(words);
    }

    [Theory]
    [InlineData("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw", "abcdef", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")]
    [InlineData("split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "split", "18171918161c01100b1d0819171d130d10171d16191c01100b03191d1b1903031d130b190303190d181d01190303190d")]
    [InlineData("A12UEL5L", "a", "")]
    [InlineData("?1ezyfcl", "?", "")]
    public void Decoded_words_match_the_bip173_data_part(string text, string expectedHrp, string expectedWordsHex)
    {
        Assert.True(Bech32.TryDecodeWords(text, out var hrp, out var words));

        Assert.Equal(expectedHrp, hrp);
        Assert.Equal(expectedWordsHex, Convert.ToHexStringLower(words));
    }

    [Fact]
    public void The_82_zero_word_vector_decodes_to_zero_words()
    {
        Assert.True(Bech32.TryDecodeWords(EightyTwoZeroWords, out var hrp, out var words));

        Assert.Equal("1", hrp);
        Assert.Equal(new byte[82], words);
    }

    /// <summary>BIP-173 valid segwit addresses: version word, then the witness program regrouped from 5 to 8 bits.</summary>
    [Theory]
    [InlineData("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "bc", 0, "751e76e8199196d454941c45d1b3a323f1433bd6")]
    [InlineData("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7", "tb", 0, "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262")]
    [InlineData("bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx", "bc", 1, "751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6")]
    [InlineData("BC1SW50QA3JX3S", "bc", 16, "751e")]
    [InlineData("bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj", "bc", 2, "751e76e8199196d454941c45d1b3a323")]
    [InlineData("tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy", "tb", 0, "000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433")]
    public void Segwit_address_decodes_to_its_witness_program(string address, string expectedHrp, int expectedVersion, string expectedProgramHex)
    {
        Assert.True(Bech32.TryDecodeWords(address, out var hrp, out var words));

        var program = Bech32.ConvertBits(words.AsSpan(1), 5, 8, pad: false);

        Assert.Equal(expectedHrp, hrp);
        Assert.Equal(expectedVersion, words[0]);
        Assert.NotNull(program);
        Assert.Equal(expectedProgramHex, Convert.ToHexStringLower(program));
    }

    [Fact]
    public void Segwit_witness_program_encodes_to_the_bip173_address()
    {
        var program = Convert.FromHexString("751e76e8199196d454941c45d1b3a323f1433bd6");
        byte[] words = [0, .. Bech32.ConvertBits(program, 8, 5, pad: true)!];

        var address = Bech32.EncodeWords("bc", words);

        Assert.Equal("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", address);
    }

    [Theory]
    [InlineData("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "invalid checksum")]
    [InlineData("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7", "mixed case")]
    public void Invalid_segwit_address_fails_bech32_decoding(string address, string reason)
    {
        Assert.False(Bech32.TryDecodeWords(address, out _, out _), reason);
    }

    [Theory]
    [InlineData("bc1zw508d6qejxtdg4y5r3zarvaryvqyzf3du", "zero padding of more than 4 bits")]
    [InlineData("tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv", "non-zero padding in 8-to-5 conversion")]
    public void Segwit_program_with_bad_padding_is_refused_by_ConvertBits(string address, string reason)
    {
        Assert.True(Bech32.TryDecodeWords(address, out _, out var words));

        var program = Bech32.ConvertBits(words.AsSpan(1), 5, 8, pad: false);

        Assert.Null(program);
        _ = reason;
    }

    [Fact]
    public void Segwit_address_with_a_foreign_hrp_decodes_with_that_hrp()
    {
        Assert.True(Bech32.TryDecodeWords("tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty", out var hrp, out _));

        Assert.Equal("tc", hrp);
    }

    [Fact]
    public void Encode_then_TryDecode_round_trips_bytes()
    {
        var data = Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray();

        var text = Bech32.Encode("test", data);

        Assert.True(Bech32.TryDecode(text, out var hrp, out var decoded));
        Assert.Equal("test", hrp);
        Assert.Equal(data, decoded);
    }

    [Fact]
    public void Encode_lower_cases_the_hrp()
    {
        var text = Bech32.Encode("AITBC", new byte[20]);

        Assert.StartsWith("aitbc1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_refuses_a_result_longer_than_90_characters()
    {
        Assert.Throws<ArgumentException>(() => Bech32.Encode("aitbc", new byte[60]));
    }

    [Fact]
    public void EncodeWords_refuses_an_empty_hrp()
    {
        Assert.Throws<ArgumentException>(() => Bech32.EncodeWords("", [1, 2, 3]));
    }

    [Fact]
    public void ConvertBits_refuses_a_value_wider_than_the_source_group()
    {
        Assert.Null(Bech32.ConvertBits([31, 32], 5, 8, pad: true));
    }

    [Fact]
    public void ConvertBits_pads_the_last_group_with_zero_bits()
    {
        var words = Bech32.ConvertBits([0xff], 8, 5, pad: true);

        Assert.Equal(new byte[] { 31, 28 }, words);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("a1qqqqq")] // 7 characters: shorter than any bech32 string
    public void TryDecode_rejects_null_and_too_short_input(string? text)
    {
        Assert.False(Bech32.TryDecode(text, out _, out _));
    }

    [Fact]
    public void TryDecode_rejects_a_data_part_with_incomplete_padding()
    {
        // One 5-bit word cannot hold a whole byte, so there is no byte string it stands for.
        var text = Bech32.EncodeWords("aitbc", [1]);

        Assert.True(Bech32.TryDecodeWords(text, out _, out _));
        Assert.False(Bech32.TryDecode(text, out _, out _));
    }
}
