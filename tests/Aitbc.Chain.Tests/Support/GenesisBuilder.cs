using Aitbc.Chain.Genesis;
using Aitbc.Core;
using Aitbc.Core.Crypto;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Builds a genesis for tests: one validator, one coordinator, five funded accounts; override what a test needs with <c>with</c>.</summary>
internal sealed record GenesisBuilder
{
    public const string DefaultChainId = "aitbc-test";
    public const string DefaultGenesisTime = "2025-01-01T00:00:00Z";
    public const ulong InitialBalance = 1_000_000;

    public static readonly DateTimeOffset GenesisTime = DateTimeOffset.Parse(DefaultGenesisTime, System.Globalization.CultureInfo.InvariantCulture);

    public string ChainId { get; init; } = DefaultChainId;

    public Ed25519PublicKey Validator { get; init; } = TestKeys.Validator.PublicKey;

    public IReadOnlyList<Address> Coordinators { get; init; } = [TestKeys.Coordinator.Address];

    public IReadOnlyList<GenesisAllocation> Allocations { get; init; } =
    [
        Fund(TestKeys.Coordinator),
        Fund(TestKeys.Alice),
        Fund(TestKeys.Bob),
        Fund(TestKeys.Miner),
        Fund(TestKeys.OtherMiner),
    ];

    public int MaxBlockTxs { get; init; } = 10_000;

    public int MempoolMaxTxs { get; init; } = 100_000;

    public long UnbondingMs { get; init; } = GenesisDocument.DefaultUnbondingMs;

    public static GenesisAllocation Fund(Ed25519KeyPair key, ulong micro = InitialBalance) => new(key.Address, new Amount(micro));

    public GenesisDocument Build() =>
        new(ChainId, DefaultGenesisTime, Validator.Base64, Coordinators, Allocations, BlockIntervalMs: 200, MaxBlockTxs, MempoolMaxTxs, UnbondingMs);
}
