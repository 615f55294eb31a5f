using System.Security.Cryptography;
using Aitbc.Core.Blocks;

namespace Aitbc.Core.Tests.Blocks;

/// <summary>Checks <see cref="Merkle.Root"/> against RFC 6962 §2.1 hashing done by hand here.</summary>
public class MerkleTests
{
    private static readonly byte[] A = "a"u8.ToArray();
    private static readonly byte[] B = "b"u8.ToArray();
    private static readonly byte[] C = "c"u8.ToArray();
    private static readonly byte[] D = "d"u8.ToArray();
    private static readonly byte[] E = "e"u8.ToArray();

    private static byte[] Leaf(byte[] item) => SHA256.HashData([0x00, .. item]);

    private static byte[] Node(byte[] left, byte[] right) => SHA256.HashData([0x01, .. left, .. right]);

    [Fact]
    public void Root_of_no_items_is_sha256_of_the_empty_string()
    {
        Assert.Equal(SHA256.HashData([]), Merkle.Root([]));
    }

    [Fact]
    public void Root_of_one_item_is_its_leaf_hash()
    {
        Assert.Equal(Leaf(A), Merkle.Root([A]));
    }

    [Fact]
    public void Root_of_two_items_joins_their_leaves()
    {
        Assert.Equal(Node(Leaf(A), Leaf(B)), Merkle.Root([A, B]));
    }

    [Fact]
    public void Root_of_three_items_splits_after_two()
    {
        var expected = Node(Node(Leaf(A), Leaf(B)), Leaf(C));

        Assert.Equal(expected, Merkle.Root([A, B, C]));
    }

    [Fact]
    public void Root_of_four_items_is_a_balanced_tree()
    {
        var expected = Node(Node(Leaf(A), Leaf(B)), Node(Leaf(C), Leaf(D)));

        Assert.Equal(expected, Merkle.Root([A, B, C, D]));
    }

    [Fact]
    public void Root_of_five_items_splits_after_four()
    {
        var expected = Node(Node(Node(Leaf(A), Leaf(B)), Node(Leaf(C), Leaf(D))), Leaf(E));

        Assert.Equal(expected, Merkle.Root([A, B, C, D, E]));
    }

    [Fact]
    public void Root_depends_on_item_order()
    {
        Assert.NotEqual(Merkle.Root([A, B]), Merkle.Root([B, A]));
    }

    [Fact]
    public void Leaf_and_node_prefixes_keep_a_leaf_from_posing_as_a_node()
    {
        // Without domain separation a single item equal to leaf(a)||leaf(b) would share the root of [a, b].
        byte[] forged = [.. Leaf(A), .. Leaf(B)];

        Assert.NotEqual(Merkle.Root([A, B]), Merkle.Root([forged]));
    }

    [Fact]
    public void ComputeDataHash_is_the_root_over_the_sha256_of_each_transaction()
    {
        byte[][] txs = [A, B, C];

        var dataHash = BlockHeader.ComputeDataHash(txs);

        Assert.Equal(Merkle.Root([.. txs.Select(tx => SHA256.HashData(tx))]), dataHash);
        Assert.Equal(Node(Node(Leaf(SHA256.HashData(A)), Leaf(SHA256.HashData(B))), Leaf(SHA256.HashData(C))), dataHash);
    }
}
