using Aitbc.Chain.Blocks;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Blocks;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

/// <summary>
/// Unstaked stake unbonds for genesis <c>unbonding_ms</c> of block time: it leaves the miner's bonded stake at once,
/// stays held (slashable) meanwhile, and returns to the balance with the first block at or after its release time.
/// </summary>
public sealed class UnbondingTests : IDisposable
{
    private const ulong Stake = 100_000;
    private const ulong Escrowed = 30_000;
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(10);

    private readonly TestChain _validator;
    private readonly TestChain _follower;

    public UnbondingTests()
    {
        var genesis = new GenesisBuilder { UnbondingMs = (long)Delay.TotalMilliseconds }.Build();
        _validator = TestChain.Validator(genesis);
        _follower = TestChain.Follower(genesis);
    }

    public void Dispose()
    {
        _validator.Dispose();
        _follower.Dispose();
    }

    private ulong Staked => _validator.Chain.Read(s => s.GetMiner(Miner.Address)!.Stake.Micro);

    private ulong Unbonding => _validator.Chain.Read(s => s.GetMiner(Miner.Address)!.UnbondingTotal.Micro);

    /// <summary>A block with an unrelated transaction, so that time passes on chain.</summary>
    private Task<Block> TickAsync() => _validator.CommitAsync(_validator.Txs.Sign(Bob, Bodies.Transfer(Alice, 1)));

    private async Task<DateTimeOffset> RegisterAndUnstakeAsync(ulong unstake)
    {
        await _validator.CommitAsync(_validator.Txs.Sign(Miner, Bodies.RegisterMiner(Stake)));
        var block = await _validator.CommitAsync(_validator.Txs.Sign(Miner, Bodies.Unstake(unstake)));
        return DateTimeOffset.Parse(block.Header.Time, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task A_miner_that_unstakes_all_while_its_job_runs_does_not_get_the_stake_back_at_once()
    {
        await _validator.CommitAsync(
            _validator.Txs.Sign(Miner, Bodies.RegisterMiner(Stake)),
            _validator.Txs.Sign(Alice, Bodies.Approve(Coordinator, Escrowed)),
            _validator.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, Escrowed)));
        var balanceWhileStaked = _validator.Balance(Miner);

        await _validator.CommitAsync(_validator.Txs.Sign(Miner, Bodies.Unstake(Stake)));
        await _validator.CommitAsync(_validator.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000)));

        Assert.Equal(balanceWhileStaked + 12_000, _validator.Balance(Miner));
        Assert.Equal(0UL, Staked);
        Assert.Equal(Stake, Unbonding);
        Assert.Equal(Stake, _validator.Chain.Read(s => s.GetMiner(Miner.Address)!.Slashable.Micro));
        Assert.Equal(_validator.Genesis.TotalSupply, _validator.Chain.ComputeSupply());
        var spendAll = _validator.Submit(_validator.Txs.Peek(Miner, Bodies.Transfer(Bob, balanceWhileStaked + 12_000 + 1)));
        Assert.Equal(TxCode.InsufficientFunds, spendAll.Result.Code);
    }

    [Fact]
    public async Task Unbonding_stake_returns_to_the_balance_with_the_first_block_at_its_release_time()
    {
        var unstakedAt = await RegisterAndUnstakeAsync(60_000);
        var balance = _validator.Balance(Miner);

        // Each block comes a second after the clock's last position: this one a second before the release time.
        _validator.Time.Advance(Delay - TimeSpan.FromSeconds(2));
        var before = await TickAsync();
        Assert.Equal(BlockHeader.FormatTime(unstakedAt + Delay - TimeSpan.FromSeconds(1)), before.Header.Time);
        Assert.Equal(balance, _validator.Balance(Miner));
        Assert.Equal(60_000UL, Unbonding);

        var at = await TickAsync();

        Assert.Equal(BlockHeader.FormatTime(unstakedAt + Delay), at.Header.Time);
        Assert.Equal(balance + 60_000, _validator.Balance(Miner));
        Assert.Equal(0UL, Unbonding);
        Assert.Null(_validator.Chain.Read(s => s.GetMiner(Miner.Address)!.Unbonding));
        Assert.Equal(40_000UL, Staked);
        Assert.Equal(_validator.Genesis.TotalSupply, _validator.Chain.ComputeSupply());
    }

    [Fact]
    public async Task A_stake_check_during_unbonding_sees_the_reduced_stake()
    {
        await RegisterAndUnstakeAsync(60_000);

        var listed = Assert.Single(_validator.Chain.Miners());
        var tooMuch = _validator.Submit(_validator.Txs.Peek(Miner, Bodies.Unstake(40_001)));

        Assert.Equal(40_000UL, listed.Stake.Micro);
        Assert.Equal(TxCode.InsufficientFunds, tooMuch.Result.Code);
        _validator.SubmitNew(Miner, Bodies.Unstake(40_000));
    }

    [Fact]
    public async Task A_follower_releases_at_the_same_block_and_agrees_on_the_state()
    {
        await RegisterAndUnstakeAsync(60_000);
        _validator.Time.Advance(Delay);
        await TickAsync();

        for (var height = 1L; height <= _validator.Chain.Status.Height; height++)
        {
            _follower.Chain.ImportBlock(_validator.StoredBlock(height));
            Assert.Equal(_validator.Chain.Store.GetBlock(height)!.Value.ResultAppHash, _follower.Chain.Status.AppHash);
        }

        Assert.Equal(_validator.Chain.Status, _follower.Chain.Status);
        Assert.Equal(_validator.Balance(Miner), _follower.Balance(Miner));
        Assert.Equal(_validator.Chain.Miners(), _follower.Chain.Miners());
        Assert.Equal(_follower.Genesis.TotalSupply, _follower.Chain.ComputeSupply());
    }

    [Fact]
    public async Task Unbonding_survives_a_restart_and_is_still_released()
    {
        await RegisterAndUnstakeAsync(60_000);
        var balance = _validator.Balance(Miner);

        _validator.Reopen();
        Assert.Equal(60_000UL, Unbonding);
        _validator.Time.Advance(Delay);
        await TickAsync();

        Assert.Equal(balance + 60_000, _validator.Balance(Miner));
        Assert.Equal(0UL, Unbonding);
    }

    [Fact]
    public async Task The_mempool_sees_released_funds_right_after_the_releasing_block()
    {
        // One transaction per block, so that the miner's waits in the mempool while the block before it releases.
        using var chain = TestChain.Validator(new GenesisBuilder { UnbondingMs = (long)Delay.TotalMilliseconds, MaxBlockTxs = 1 }.Build());
        await chain.CommitAsync(chain.Txs.Sign(Miner, Bodies.RegisterMiner(Stake)));
        await chain.CommitAsync(chain.Txs.Sign(Miner, Bodies.Unstake(60_000)));
        var balance = chain.Balance(Miner);
        chain.SubmitNew(Bob, Bodies.Transfer(Alice, 1));
        chain.SubmitNew(Miner, Bodies.Approve(Bob, 1));
        chain.Time.Advance(Delay);

        await chain.ProduceAsync();

        Assert.Equal(balance + 60_000, chain.Balance(Miner));
        Assert.Equal(1, chain.Chain.MempoolCount);
        var spend = chain.Submit(chain.Txs.Peek(Miner, Bodies.Transfer(Bob, balance + 60_000)));
        Assert.True(spend.IsOk, $"{spend.Result.Code} {spend.Result.Log}");
    }
}
