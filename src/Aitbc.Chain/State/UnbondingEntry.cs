using System.Globalization;
using Aitbc.Core;

namespace Aitbc.Chain.State;

/// <summary>
/// Stake an <c>unstake</c> took off a miner's bonded stake. It no longer counts as the miner's stake (for ranking or a
/// later unstake) but is still held, and slashable, until the first block whose time is at or after
/// <paramref name="ReleaseAt"/> returns it to the miner's balance.
/// </summary>
/// <param name="Amount">the uaitbc unstaked</param>
/// <param name="UnstakedHeight">the height of the block that executed the unstake</param>
/// <param name="ReleaseAt">that block's time plus genesis <c>unbonding_ms</c>, as a block time (UTC, seven fractional digits)</param>
public sealed record UnbondingEntry(Amount Amount, long UnstakedHeight, string ReleaseAt)
{
    public bool IsDueAt(DateTimeOffset blockTime) =>
        DateTimeOffset.Parse(ReleaseAt, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal) <= blockTime;
}
