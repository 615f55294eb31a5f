using Aitbc.Core.Crypto;

namespace Aitbc.Core.Tests;

/// <summary>Deterministic key pairs for tests: each name maps to a fixed seed, so runs are reproducible.</summary>
internal static class TestKeys
{
    public static Ed25519KeyPair FromLabel(byte label)
    {
        var seed = new byte[Ed25519KeyPair.SeedSize];
        Array.Fill(seed, label);
        return Ed25519KeyPair.FromSeed(seed);
    }

    public static Ed25519KeyPair Alice { get; } = FromLabel(0xA1);

    public static Ed25519KeyPair Bob { get; } = FromLabel(0xB0);

    public static Ed25519KeyPair Coordinator { get; } = FromLabel(0xC0);

    public static Ed25519KeyPair Miner { get; } = FromLabel(0x3E);
}
