using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Core;

/// <summary>An amount of AITBC held as integer uaitbc (1 AITBC = 1,000,000 uaitbc); arithmetic is overflow-checked.</summary>
[JsonConverter(typeof(AmountMicroJsonConverter))]
public readonly record struct Amount(ulong Micro) : IComparable<Amount>
{
    public const ulong MicroPerAitbc = 1_000_000;
    private const int FractionDigits = 6;

    public static Amount Zero => default;

    public bool IsZero => Micro == 0;

    public static Amount FromAitbc(ulong whole) => new(checked(whole * MicroPerAitbc));

    public static Amount operator +(Amount a, Amount b) => new(checked(a.Micro + b.Micro));

    public static Amount operator -(Amount a, Amount b) =>
        a.Micro >= b.Micro ? new(a.Micro - b.Micro) : throw new OverflowException($"{a} - {b} is negative");

    public static bool operator <(Amount a, Amount b) => a.Micro < b.Micro;
    public static bool operator >(Amount a, Amount b) => a.Micro > b.Micro;
    public static bool operator <=(Amount a, Amount b) => a.Micro <= b.Micro;
    public static bool operator >=(Amount a, Amount b) => a.Micro >= b.Micro;

    public static Amount Min(Amount a, Amount b) => a <= b ? a : b;

    public int CompareTo(Amount other) => Micro.CompareTo(other.Micro);

    /// <summary>Parses integer uaitbc as written on chain: digits only, no sign, no leading zeros.</summary>
    public static bool TryParseMicro(string? text, out Amount amount)
    {
        amount = default;
        if (string.IsNullOrEmpty(text) || text.Length > 20 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }
        foreach (var c in text)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }
        if (!ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var micro))
        {
            return false;
        }
        amount = new Amount(micro);
        return true;
    }

    public static Amount ParseMicro(string text) =>
        TryParseMicro(text, out var a) ? a : throw new FormatException($"'{text}' is not an amount in uaitbc (digits only, no sign, no leading zeros)");

    /// <summary>Parses AITBC as a decimal string ("0.25", "12", "1.000001"): at most 6 decimals, no sign, no exponent.</summary>
    public static bool TryParseAitbc(string? text, out Amount amount)
    {
        amount = default;
        if (string.IsNullOrEmpty(text) || text.Length > 40)
        {
            return false;
        }
        var dot = text.IndexOf('.');
        var whole = dot < 0 ? text : text[..dot];
        var fraction = dot < 0 ? "" : text[(dot + 1)..];
        if (whole.Length == 0 || (dot >= 0 && fraction.Length == 0) || fraction.Length > FractionDigits)
        {
            return false;
        }
        if (!whole.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit))
        {
            return false;
        }
        if (!ulong.TryParse(whole, NumberStyles.None, CultureInfo.InvariantCulture, out var w))
        {
            return false;
        }
        var f = fraction.Length == 0 ? 0UL : ulong.Parse(fraction.PadRight(FractionDigits, '0'), NumberStyles.None, CultureInfo.InvariantCulture);
        try
        {
            amount = new Amount(checked((w * MicroPerAitbc) + f));
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    public static Amount ParseAitbc(string text) =>
        TryParseAitbc(text, out var a) ? a : throw new FormatException($"'{text}' is not an AITBC amount (a decimal like 0.25, at most 6 decimals)");

    /// <summary>The on-chain form: integer uaitbc.</summary>
    public string ToMicroString() => Micro.ToString(CultureInfo.InvariantCulture);

    /// <summary>The REST/CLI form: AITBC with no trailing zeros ("0.25", "3", "0.000001").</summary>
    public string ToAitbcString()
    {
        var whole = Micro / MicroPerAitbc;
        var fraction = Micro % MicroPerAitbc;
        if (fraction == 0)
        {
            return whole.ToString(CultureInfo.InvariantCulture);
        }
        var digits = fraction.ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0');
        return string.Create(CultureInfo.InvariantCulture, $"{whole}.{digits}");
    }

    public override string ToString() => $"{ToAitbcString()} AITBC";
}

/// <summary>Writes and reads an amount as a JSON string of integer uaitbc, the on-chain form.</summary>
public sealed class AmountMicroJsonConverter : JsonConverter<Amount>
{
    public override Amount Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String || !Amount.TryParseMicro(reader.GetString(), out var amount))
        {
            throw new JsonException("an amount must be a string of integer uaitbc, e.g. \"250000\"");
        }
        return amount;
    }

    public override void Write(Utf8JsonWriter writer, Amount value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToMicroString());
}
