using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class MinerStakeRulesTests
{
    private readonly LedgerHarness _ledger = new();

    [Fact]
    public void Register_miner_locks_the_stake_and_records_the_miners_key()
    {
        var height = _ledger.Height;

        _ledger.Commit(Miner, Bodies.RegisterMiner(40_000));

        var miner = _ledger.Miner(Miner);
        Assert.NotNull(miner);
        Assert.Equal(40_000UL, miner.Stake.Micro);
        Assert.Equal(Miner.PublicKey.Base64, miner.PubKey);
        Assert.Equal(height, miner.RegisteredHeight);
        Assert.Equal(GenesisBuilder.InitialBalance - 40_000, _ledger.Balance(Miner));
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
    }

    [Fact]
    public void Register_miner_again_tops_up_the_stake()
    {
        _ledger.Commit(Miner, Bodies.RegisterMiner(40_000));
        var registeredAt = _ledger.Miner(Miner)!.RegisteredHeight;

        _ledger.Commit(Miner, Bodies.RegisterMiner(2_000));

        var miner = _ledger.Miner(Miner)!;
        Assert.Equal(42_000UL, miner.Stake.Micro);
        Assert.Equal(registeredAt, miner.RegisteredHeight);
        Assert.Equal(GenesisBuilder.InitialBalance - 42_000, _ledger.Balance(Miner));
    }

    [Fact]
    public void Register_miner_with_zero_stake_is_refused()
    {
        _ledger.AssertRefused(Miner, Bodies.RegisterMiner(0), TxCode.InvalidField);

        Assert.Null(_ledger.Miner(Miner));
    }

    [Fact]
    public void Register_miner_with_more_stake_than_balance_is_refused()
    {
        _ledger.AssertRefused(Miner, Bodies.RegisterMiner(GenesisBuilder.InitialBalance + 1), TxCode.InsufficientFunds);

        Assert.Null(_ledger.Miner(Miner));
    }

    [Fact]
    public void Unstake_releases_stake_to_the_balance()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        _ledger.Commit(Miner, Bodies.Unstake(15_000));

        Assert.Equal(25_000UL, _ledger.Miner(Miner)!.Stake.Micro);
        Assert.Equal(GenesisBuilder.InitialBalance - 25_000, _ledger.Balance(Miner));
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
    }

    [Fact]
    public void Unstake_of_the_whole_stake_leaves_zero_locked()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        _ledger.Commit(Miner, Bodies.Unstake(40_000));

        Assert.Equal(0UL, _ledger.Miner(Miner)!.Stake.Micro);
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Miner));
    }

    [Fact]
    public void Unstake_by_an_unregistered_account_is_refused()
    {
        _ledger.AssertRefused(Bob, Bodies.Unstake(1), TxCode.UnknownMiner);
    }

    [Fact]
    public void Unstake_of_more_than_the_stake_is_refused()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        var result = _ledger.AssertRefused(Miner, Bodies.Unstake(40_001), TxCode.InsufficientFunds);

        Assert.Contains("stake", result.Log, StringComparison.Ordinal);
        Assert.Equal(40_000UL, _ledger.Miner(Miner)!.Stake.Micro);
    }

    [Fact]
    public void Unstake_of_zero_is_refused()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        _ledger.AssertRefused(Miner, Bodies.Unstake(0), TxCode.InvalidField);
    }
}
