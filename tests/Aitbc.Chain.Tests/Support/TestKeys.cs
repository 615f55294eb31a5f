using Aitbc.Core.Crypto;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Fixed keys (deterministic seeds) for the parties of a test chain.</summary>
internal static class TestKeys
{
    public static readonly Ed25519KeyPair Validator = FromSeed(1);
    public static readonly Ed25519KeyPair Coordinator = FromSeed(2);
    public static readonly Ed25519KeyPair Alice = FromSeed(3);
    public static readonly Ed25519KeyPair Bob = FromSeed(4);
    public static readonly Ed25519KeyPair Miner = FromSeed(5);
    public static readonly Ed25519KeyPair OtherMiner = FromSeed(6);

    /// <summary>A second coordinator, named in genesis only where a test says so.</summary>
    public static readonly Ed25519KeyPair OtherCoordinator = FromSeed(8);

    /// <summary>Named nowhere in genesis: no funds, no role.</summary>
    public static readonly Ed25519KeyPair Stranger = FromSeed(7);

    public static Ed25519KeyPair FromSeed(byte fill)
    {
        Span<byte> seed = stackalloc byte[Ed25519KeyPair.SeedSize];
        seed.Fill(fill);
        return Ed25519KeyPair.FromSeed(seed);
    }
}
