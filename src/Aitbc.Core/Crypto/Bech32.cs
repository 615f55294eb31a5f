namespace Aitbc.Core.Crypto;

/// <summary>BIP-173 bech32 encoding (not bech32m).</summary>
public static class Bech32
{
    private const string Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    private const int MaxLength = 90;
    private static readonly uint[] Generator = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    private static readonly sbyte[] CharsetIndex = BuildCharsetIndex();

    private static sbyte[] BuildCharsetIndex()
    {
        var index = new sbyte[128];
        Array.Fill(index, (sbyte)-1);
        for (var i = 0; i < Charset.Length; i++)
        {
            index[Charset[i]] = (sbyte)i;
        }
        return index;
    }

    public static string Encode(string hrp, ReadOnlySpan<byte> data)
    {
        var words = ConvertBits(data, 8, 5, pad: true) ?? throw new ArgumentException("cannot convert data to 5-bit words", nameof(data));
        return EncodeWords(hrp, words);
    }

    public static string EncodeWords(string hrp, ReadOnlySpan<byte> words)
    {
        ArgumentException.ThrowIfNullOrEmpty(hrp);
        hrp = hrp.ToLowerInvariant();
        var checksum = CreateChecksum(hrp, words);
        var chars = new char[hrp.Length + 1 + words.Length + 6];
        hrp.CopyTo(chars);
        chars[hrp.Length] = '1';
        for (var i = 0; i < words.Length; i++)
        {
            chars[hrp.Length + 1 + i] = Charset[words[i]];
        }
        for (var i = 0; i < 6; i++)
        {
            chars[hrp.Length + 1 + words.Length + i] = Charset[checksum[i]];
        }
        if (chars.Length > MaxLength)
        {
            throw new ArgumentException("bech32 string would exceed 90 characters", nameof(words));
        }
        return new string(chars);
    }

    /// <summary>Decodes a bech32 string to its HRP and 5-bit words, checking case, charset, length and checksum.</summary>
    public static bool TryDecodeWords(string? text, out string hrp, out byte[] words)
    {
        hrp = "";
        words = [];
        if (text is null || text.Length is < 8 or > MaxLength)
        {
            return false;
        }
        bool hasLower = false, hasUpper = false;
        foreach (var c in text)
        {
            if (c is < (char)33 or > (char)126)
            {
                return false;
            }
            hasLower |= c is >= 'a' and <= 'z';
            hasUpper |= c is >= 'A' and <= 'Z';
        }
        if (hasLower && hasUpper)
        {
            return false;
        }
        var lower = text.ToLowerInvariant();
        var separator = lower.LastIndexOf('1');
        if (separator < 1 || separator + 7 > lower.Length)
        {
            return false;
        }
        var data = new byte[lower.Length - separator - 1];
        for (var i = 0; i < data.Length; i++)
        {
            var index = CharsetIndex[lower[separator + 1 + i]];
            if (index < 0)
            {
                return false;
            }
            data[i] = (byte)index;
        }
        var candidateHrp = lower[..separator];
        if (Polymod(ExpandHrp(candidateHrp), data) != 1)
        {
            return false;
        }
        hrp = candidateHrp;
        words = data[..^6];
        return true;
    }

    public static bool TryDecode(string? text, out string hrp, out byte[] data)
    {
        data = [];
        if (!TryDecodeWords(text, out hrp, out var words))
        {
            return false;
        }
        var bytes = ConvertBits(words, 5, 8, pad: false);
        if (bytes is null)
        {
            return false;
        }
        data = bytes;
        return true;
    }

    /// <summary>Regroups bits (BIP-173 convertbits); null when the input has invalid padding or out-of-range values.</summary>
    public static byte[]? ConvertBits(ReadOnlySpan<byte> data, int fromBits, int toBits, bool pad)
    {
        var acc = 0;
        var bits = 0;
        var maxv = (1 << toBits) - 1;
        var result = new byte[((data.Length * fromBits) + toBits - 1) / toBits];
        var count = 0;
        foreach (var value in data)
        {
            if (value >> fromBits != 0)
            {
                return null;
            }
            acc = (acc << fromBits) | value;
            bits += fromBits;
            while (bits >= toBits)
            {
                bits -= toBits;
                result[count++] = (byte)((acc >> bits) & maxv);
            }
        }
        if (pad)
        {
            if (bits > 0)
            {
                result[count++] = (byte)((acc << (toBits - bits)) & maxv);
            }
        }
        else if (bits >= fromBits || ((acc << (toBits - bits)) & maxv) != 0)
        {
            return null;
        }
        return count == result.Length ? result : result[..count];
    }

    private static byte[] ExpandHrp(string hrp)
    {
        var result = new byte[(hrp.Length * 2) + 1];
        for (var i = 0; i < hrp.Length; i++)
        {
            result[i] = (byte)(hrp[i] >> 5);
            result[hrp.Length + 1 + i] = (byte)(hrp[i] & 31);
        }
        return result;
    }

    private static uint Polymod(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        uint chk = 1;
        Step(first, ref chk);
        Step(second, ref chk);
        return chk;

        static void Step(ReadOnlySpan<byte> values, ref uint chk)
        {
            foreach (var v in values)
            {
                var top = chk >> 25;
                chk = ((chk & 0x1ffffff) << 5) ^ v;
                for (var i = 0; i < 5; i++)
                {
                    if (((top >> i) & 1) != 0)
                    {
                        chk ^= Generator[i];
                    }
                }
            }
        }
    }

    private static byte[] CreateChecksum(string hrp, ReadOnlySpan<byte> words)
    {
        var values = new byte[words.Length + 6];
        words.CopyTo(values);
        var mod = Polymod(ExpandHrp(hrp), values) ^ 1;
        var result = new byte[6];
        for (var i = 0; i < 6; i++)
        {
            result[i] = (byte)((mod >> (5 * (5 - i))) & 31);
        }
        return result;
    }
}
