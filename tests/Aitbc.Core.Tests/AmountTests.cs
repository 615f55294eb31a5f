using System.Text.Json;

namespace Aitbc.Core.Tests;

public class AmountTests
{
    [Theory]
    [InlineData("0.25", 250_000UL)]
    [InlineData("1", 1_000_000UL)]
    [InlineData("0.000001", 1UL)]
    [InlineData("12.5", 12_500_000UL)]
    [InlineData("0", 0UL)]
    [InlineData("1.000001", 1_000_001UL)]
    [InlineData("18446744073709.551615", ulong.MaxValue)]
    public void ParseAitbc_reads_a_decimal_string_as_micro(string text, ulong expectedMicro)
    {
        var amount = Amount.ParseAitbc(text);

        Assert.Equal(expectedMicro, amount.Micro);
    }

    [Theory]
    [InlineData(250_000UL, "0.25")]
    [InlineData(1_000_000UL, "1")]
    [InlineData(1UL, "0.000001")]
    [InlineData(12_500_000UL, "12.5")]
    [InlineData(0UL, "0")]
    [InlineData(3_000_000UL, "3")]
    [InlineData(ulong.MaxValue, "18446744073709.551615")]
    public void ToAitbcString_writes_no_trailing_zeros(ulong micro, string expected)
    {
        Assert.Equal(expected, new Amount(micro).ToAitbcString());
    }

    [Theory]
    [InlineData("0.25")]
    [InlineData("1")]
    [InlineData("0.000001")]
    [InlineData("12.5")]
    public void Aitbc_string_round_trips(string text)
    {
        Assert.Equal(text, Amount.ParseAitbc(text).ToAitbcString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1.")]
    [InlineData(".5")]
    [InlineData("1.0000001")]
    [InlineData("1e3")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("+1")]
    [InlineData("1,5")]
    [InlineData("1.2.3")]
    [InlineData("0x10")]
    [InlineData("١")] // Arabic-Indic digit one: digits are ASCII only
    [InlineData("18446744073709.551616")] // one uaitbc above ulong.MaxValue
    [InlineData("18446744073710")]
    [InlineData("99999999999999999999999")]
    public void TryParseAitbc_rejects_what_is_not_a_plain_decimal_within_range(string? text)
    {
        Assert.False(Amount.TryParseAitbc(text, out var amount));
        Assert.Equal(Amount.Zero, amount);
    }

    [Fact]
    public void ParseAitbc_throws_FormatException_for_a_rejected_string()
    {
        Assert.Throws<FormatException>(() => Amount.ParseAitbc("1.0000001"));
    }

    [Theory]
    [InlineData("0", 0UL)]
    [InlineData("250000", 250_000UL)]
    [InlineData("18446744073709551615", ulong.MaxValue)]
    public void ParseMicro_reads_integer_uaitbc(string text, ulong expected)
    {
        Assert.Equal(expected, Amount.ParseMicro(text).Micro);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("01")]
    [InlineData("00")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData("1.0")]
    [InlineData("1e6")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("abc")]
    [InlineData("١")]
    [InlineData("18446744073709551616")] // ulong.MaxValue + 1
    [InlineData("99999999999999999999")]
    [InlineData("123456789012345678901")]
    public void TryParseMicro_rejects_sign_leading_zeros_non_digits_and_overflow(string? text)
    {
        Assert.False(Amount.TryParseMicro(text, out _));
    }

    [Fact]
    public void ParseMicro_throws_FormatException_for_a_rejected_string()
    {
        Assert.Throws<FormatException>(() => Amount.ParseMicro("007"));
    }

    [Fact]
    public void ToMicroString_writes_integer_uaitbc()
    {
        Assert.Equal("250000", Amount.ParseAitbc("0.25").ToMicroString());
    }

    [Fact]
    public void FromAitbc_multiplies_by_one_million()
    {
        Assert.Equal(5_000_000UL, Amount.FromAitbc(5).Micro);
    }

    [Fact]
    public void FromAitbc_throws_on_overflow()
    {
        Assert.Throws<OverflowException>(() => Amount.FromAitbc(ulong.MaxValue / 1_000_000 + 1));
    }

    [Fact]
    public void Addition_sums_micro()
    {
        var sum = new Amount(250_000) + new Amount(750_001);

        Assert.Equal(1_000_001UL, sum.Micro);
    }

    [Fact]
    public void Addition_throws_on_overflow()
    {
        var max = new Amount(ulong.MaxValue);

        Assert.Throws<OverflowException>(() => max + new Amount(1));
    }

    [Fact]
    public void Subtraction_to_zero_is_allowed()
    {
        var a = new Amount(5);

        Assert.True((a - a).IsZero);
    }

    [Fact]
    public void Subtraction_below_zero_throws()
    {
        Assert.Throws<OverflowException>(() => new Amount(1) - new Amount(2));
    }

    [Fact]
    public void Comparisons_follow_micro()
    {
        var small = new Amount(1);
        var large = new Amount(2);

        Assert.True(small < large);
        Assert.True(large > small);
        Assert.True(small <= new Amount(1));
        Assert.True(large >= small);
        Assert.False(large < small);
        Assert.Equal(small, Amount.Min(small, large));
        Assert.Equal(small, Amount.Min(large, small));
        Assert.True(small.CompareTo(large) < 0);
    }

    [Fact]
    public void ToString_names_the_unit()
    {
        Assert.Equal("0.25 AITBC", new Amount(250_000).ToString());
    }

    [Fact]
    public void Json_writes_the_uaitbc_string()
    {
        var json = JsonSerializer.Serialize(new Amount(250_000));

        Assert.Equal("\"250000\"", json);
    }

    [Fact]
    public void Json_reads_the_uaitbc_string()
    {
        var amount = JsonSerializer.Deserialize<Amount>("\"250000\"");

        Assert.Equal(250_000UL, amount.Micro);
    }

    [Theory]
    [InlineData("250000")]
    [InlineData("0.25")]
    [InlineData("\"0.25\"")]
    [InlineData("\"01\"")]
    [InlineData("\"-1\"")]
    [InlineData("\"\"")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("\"18446744073709551616\"")]
    public void Json_refuses_numbers_and_strings_that_are_not_integer_uaitbc(string json)
    {
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Amount>(json));
    }
}
