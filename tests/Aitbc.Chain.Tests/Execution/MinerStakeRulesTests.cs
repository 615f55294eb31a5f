using Aitbc.Chain.Execution;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Blocks;
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
    public void Unstake_moves_stake_into_unbonding_not_to_the_balance()
    {
        _ledger.RegisterMiner(Miner, 40_000);
        var height = _ledger.Height;

        var result = _ledger.Commit(Miner, Bodies.Unstake(15_000));

        var miner = _ledger.Miner(Miner)!;
        Assert.Equal(25_000UL, miner.Stake.Micro);
        Assert.Equal(GenesisBuilder.InitialBalance - 40_000, _ledger.Balance(Miner));
        var entry = Assert.Single(miner.Unbonding!);
        Assert.Equal(15_000UL, entry.Amount.Micro);
        Assert.Equal(height, entry.UnstakedHeight);
        Assert.Equal(BlockHeader.FormatTime(_ledger.Time.AddMilliseconds(_ledger.Genesis.UnbondingMs)), entry.ReleaseAt);
        Assert.Equal(40_000UL, miner.Slashable.Micro);
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
        Assert.Contains(Assert.Single(result.Events).Attributes, a => a.Key == "release_at" && a.Value == entry.ReleaseAt);
    }

    [Fact]
    public void Unstake_of_the_whole_stake_leaves_zero_bonded_and_all_of_it_slashable()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        _ledger.Commit(Miner, Bodies.Unstake(40_000));

        var miner = _ledger.Miner(Miner)!;
        Assert.Equal(0UL, miner.Stake.Micro);
        Assert.Equal(40_000UL, miner.UnbondingTotal.Micro);
        Assert.Equal(40_000UL, miner.Slashable.Micro);
        Assert.Equal(GenesisBuilder.InitialBalance - 40_000, _ledger.Balance(Miner));
    }

    [Fact]
    public void Unstakes_at_the_same_block_time_share_one_unbonding_entry()
    {
        _ledger.RegisterMiner(Miner, 40_000);

        _ledger.Commit(Miner, Bodies.Unstake(1_000));
        _ledger.Commit(Miner, Bodies.Unstake(2_000));
        _ledger.Advance(TimeSpan.FromSeconds(1));
        _ledger.Commit(Miner, Bodies.Unstake(4_000));

        Assert.Equal([3_000UL, 4_000UL], _ledger.Miner(Miner)!.Unbonding!.Select(e => e.Amount.Micro));
        Assert.Equal(33_000UL, _ledger.Miner(Miner)!.Stake.Micro);
    }

    [Fact]
    public void Unstake_while_the_most_entries_are_unbonding_is_refused_as_stake_locked()
    {
        _ledger.RegisterMiner(Miner, 40_000);
        for (var i = 0; i < TxExecutor.MaxUnbondingEntries; i++)
        {
            _ledger.Advance(TimeSpan.FromSeconds(1));
            _ledger.Commit(Miner, Bodies.Unstake(100));
        }
        _ledger.Advance(TimeSpan.FromSeconds(1));

        var result = _ledger.AssertRefused(Miner, Bodies.Unstake(100), TxCode.StakeLocked);

        Assert.Contains(_ledger.Miner(Miner)!.Unbonding![0].ReleaseAt, result.Log, StringComparison.Ordinal);
        Assert.Equal(40_000UL - (100UL * TxExecutor.MaxUnbondingEntries), _ledger.Miner(Miner)!.Stake.Micro);
    }

    [Fact]
    public void Unstake_counts_only_the_bonded_stake_not_what_is_unbonding()
    {
        _ledger.RegisterMiner(Miner, 40_000);
        _ledger.Commit(Miner, Bodies.Unstake(30_000));

        _ledger.AssertRefused(Miner, Bodies.Unstake(10_001), TxCode.InsufficientFunds);

        Assert.Equal(10_000UL, _ledger.Miner(Miner)!.Stake.Micro);
    }

    [Fact]
    public void Register_miner_while_stake_unbonds_adds_to_the_bonded_stake_only()
    {
        _ledger.RegisterMiner(Miner, 40_000);
        _ledger.Commit(Miner, Bodies.Unstake(30_000));

        _ledger.Commit(Miner, Bodies.RegisterMiner(5_000));

        var miner = _ledger.Miner(Miner)!;
        Assert.Equal(15_000UL, miner.Stake.Micro);
        Assert.Equal(30_000UL, miner.UnbondingTotal.Micro);
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
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
