using System.Security.Cryptography;
using System.Text.Json;
using Aitbc.Core.Crypto;

namespace Aitbc.Core.Tests;

public class AddressTests
{
    [Fact]
    public void FromPublicKey_is_bech32_aitbc_over_the_first_20_bytes_of_the_key_hash()
    {
        var key = TestKeys.Alice.PublicKey;

        var address = Address.FromPublicKey(key);

        Assert.StartsWith("aitbc1", address.Value, StringComparison.Ordinal);
        Assert.Equal(5 + 1 + 32 + 6, address.Value.Length);
        Assert.Equal(SHA256.HashData(key.Bytes)[..20], address.Payload());
        Assert.Equal(address.Value, address.ToString());
    }

    [Fact]
    public void Rfc8032_test1_public_key_has_a_stable_address()
    {
        var key = Ed25519PublicKey.FromBytes(Convert.FromHexString("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"));
        var expected = Bech32.Encode("aitbc", SHA256.HashData(key.Bytes).AsSpan(0, 20));

        Assert.Equal(expected, key.Address.Value);
    }

    [Fact]
    public void Parse_round_trips_an_address()
    {
        var address = TestKeys.Alice.Address;

        var parsed = Address.Parse(address.Value);

        Assert.Equal(address, parsed);
    }

    [Fact]
    public void Upper_case_spelling_is_accepted_and_stored_lower_case()
    {
        var address = TestKeys.Alice.Address;

        var parsed = Address.Parse(address.Value.ToUpperInvariant());

        Assert.Equal(address.Value, parsed.Value);
        Assert.Equal(address, parsed);
    }

    [Fact]
    public void Mixed_case_spelling_is_rejected()
    {
        var text = TestKeys.Alice.Address.Value;
        var mixed = "AITBC" + text[5..];

        Assert.False(Address.TryParse(mixed, out _));
    }

    [Theory]
    [InlineData("cosmos")]
    [InlineData("aitb")]
    [InlineData("aitbcx")]
    [InlineData("bc")]
    public void Wrong_hrp_is_rejected(string hrp)
    {
        var text = Bech32.Encode(hrp, new byte[Address.PayloadLength]);

        Assert.False(Address.TryParse(text, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(19)]
    [InlineData(21)]
    [InlineData(32)]
    public void Payload_of_the_wrong_length_is_rejected(int length)
    {
        var text = Bech32.Encode(Address.Hrp, new byte[length]);

        Assert.False(Address.TryParse(text, out _));
    }

    [Fact]
    public void Bad_checksum_is_rejected()
    {
        var text = TestKeys.Alice.Address.Value;
        var last = text[^1];
        var tampered = text[..^1] + (last == 'q' ? 'p' : 'q');

        Assert.False(Address.TryParse(tampered, out _));
    }

    [Fact]
    public void Changed_data_character_is_rejected()
    {
        var text = TestKeys.Alice.Address.Value;
        var tampered = text[..10] + (text[10] == 'q' ? 'p' : 'q') + text[11..];

        Assert.False(Address.TryParse(tampered, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("aitbc1")]
    [InlineData("not an address")]
    public void Garbage_is_rejected(string? text)
    {
        Assert.False(Address.TryParse(text, out var address));
        Assert.True(address.IsEmpty);
    }

    [Fact]
    public void Parse_throws_FormatException_for_an_invalid_address()
    {
        Assert.Throws<FormatException>(() => Address.Parse("aitbc1invalid"));
    }

    [Theory]
    [InlineData(19)]
    [InlineData(21)]
    public void FromPayload_refuses_a_payload_that_is_not_20_bytes(int length)
    {
        Assert.Throws<ArgumentException>(() => Address.FromPayload(new byte[length]));
    }

    [Fact]
    public void Default_address_is_empty_and_has_no_payload()
    {
        var address = default(Address);

        Assert.True(address.IsEmpty);
        Assert.Equal("", address.ToString());
        Assert.Throws<InvalidOperationException>(() => address.Payload());
    }

    [Fact]
    public void Addresses_compare_ordinally_by_text()
    {
        var zeros = Address.FromPayload(new byte[20]); // aitbc1qqqq…
        var ones = Address.FromPayload(Enumerable.Repeat((byte)0xff, 20).ToArray()); // aitbc1llll…

        Assert.True(ones.CompareTo(zeros) < 0);
        Assert.True(zeros.CompareTo(ones) > 0);
        Assert.Equal(0, zeros.CompareTo(Address.Parse(zeros.Value)));
    }

    [Fact]
    public void Json_writes_the_address_as_a_string_and_reads_it_back()
    {
        var address = TestKeys.Alice.Address;

        var json = JsonSerializer.Serialize(address);
        var read = JsonSerializer.Deserialize<Address>(json);

        Assert.Equal($"\"{address.Value}\"", json);
        Assert.Equal(address, read);
    }

    [Theory]
    [InlineData("\"aitbc1nope\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void Json_refuses_what_is_not_an_address_string(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Address>(json));
    }
}
