using System.Security.Cryptography;

namespace Aitbc.Core.Blocks;

/// <summary>The RFC 6962 Merkle tree CometBFT uses for <c>data_hash</c>: leaves 0x00‖item, inner nodes 0x01‖left‖right, split at the largest power of two below n.</summary>
public static class Merkle
{
    public static byte[] Root(IReadOnlyList<byte[]> items) => items.Count == 0 ? SHA256.HashData([]) : Root(items, 0, items.Count);

    private static byte[] Root(IReadOnlyList<byte[]> items, int start, int count)
    {
        if (count == 1)
        {
            return Leaf(items[start]);
        }
        var split = SplitPoint(count);
        var left = Root(items, start, split);
        var right = Root(items, start + split, count - split);
        Span<byte> buffer = stackalloc byte[65];
        buffer[0] = 1;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[33..]);
        return SHA256.HashData(buffer);
    }

    private static byte[] Leaf(byte[] item)
    {
        var buffer = new byte[item.Length + 1];
        item.CopyTo(buffer, 1);
        return SHA256.HashData(buffer);
    }

    private static int SplitPoint(int count)
    {
        var split = 1;
        while (split * 2 < count)
        {
            split *= 2;
        }
        return split;
    }
}
