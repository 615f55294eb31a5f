using Aitbc.Core.Crypto;

namespace Aitbc.Core.Tests.Crypto;

public class HashingTests
{
    [Theory]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")] // FIPS 180-2 / NIST example
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void ContentHash_is_lower_hex_sha256_of_utf8(string text, string expected)
    {
        Assert.Equal(expected, Hashing.ContentHash(text));
    }

    [Fact]
    public void ContentHash_encodes_non_ascii_text_as_utf8()
    {
        var expected = Convert.ToHexStringLower(Hashing.Sha256([0xe2, 0x82, 0xac]));

        Assert.Equal(expected, Hashing.ContentHash("€"));
    }

    [Fact]
    public void Sha256UpperHex_is_upper_hex()
    {
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", Hashing.Sha256UpperHex("abc"u8));
    }

    [Fact]
    public void IsContentHash_accepts_a_lower_hex_sha256()
    {
        Assert.True(Hashing.IsContentHash(Hashing.ContentHash("abc")));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0")]
    [InlineData("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void IsContentHash_rejects_anything_but_64_lower_hex_digits(string? text)
    {
        Assert.False(Hashing.IsContentHash(text));
    }

    [Fact]
    public void IsUpperHexHash_accepts_upper_and_rejects_lower_hex()
    {
        Assert.True(Hashing.IsUpperHexHash(Hashing.Sha256UpperHex("abc"u8)));
        Assert.False(Hashing.IsUpperHexHash(Hashing.ContentHash("abc")));
        Assert.False(Hashing.IsUpperHexHash(null));
    }
}
