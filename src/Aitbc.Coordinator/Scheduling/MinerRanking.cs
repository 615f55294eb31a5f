using Aitbc.Coordinator.Storage;
using Aitbc.Core;

namespace Aitbc.Coordinator.Scheduling;

/// <summary>
/// Orders eligible miners for a job: <c>score = (1 + ln(1 + stake in AITBC)) × (0.5 + reputation) / price per second in
/// AITBC</c>, highest first, ties broken by address (ascending) so the choice is deterministic. Stake counts with
/// diminishing returns, reputation (0–1) can at most triple a miner's weight, and price divides: a miner half as dear
/// is twice as attractive. docs/coordinator.md has a worked example.
/// </summary>
public static class MinerRanking
{
    public static double Score(Amount stake, double reputation, ulong pricePerSecondMicro)
    {
        var stakeAitbc = (double)stake.Micro / Amount.MicroPerAitbc;
        var price = (double)pricePerSecondMicro / Amount.MicroPerAitbc;
        return (1 + Math.Log(1 + stakeAitbc)) * (0.5 + Math.Clamp(reputation, 0, 1)) / price;
    }

    public static IReadOnlyList<MinerRecord> Rank(IEnumerable<(MinerRecord Miner, Amount Stake)> candidates) =>
        [.. candidates
            .Select(c => (c.Miner, Score: Score(c.Stake, c.Miner.Reputation, c.Miner.PricePerSecondMicro)))
            .OrderByDescending(c => c.Score)
            .ThenBy(c => c.Miner.Address, StringComparer.Ordinal)
            .Select(c => c.Miner)];
}
