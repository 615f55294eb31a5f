using System.Collections.Concurrent;
using Aitbc.Client.Node;
using Aitbc.Core;

namespace Aitbc.Coordinator.Miners;

/// <summary>Miners' stake as the chain records it, cached for <see cref="CoordinatorOptions.StakeCacheTtl"/> so the scheduler does not ask the node per job.</summary>
public sealed class MinerStakes(NodeClient node, CoordinatorOptions options)
{
    private readonly ConcurrentDictionary<string, (Amount Stake, long ReadAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>The miner's stake, zero when it never registered on chain; null when the node cannot be asked (and nothing is cached).</summary>
    public async Task<Amount?> GetAsync(string address, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_cache.TryGetValue(address, out var cached) && now - cached.ReadAt < (long)options.StakeCacheTtl.TotalMilliseconds)
        {
            return cached.Stake;
        }
        try
        {
            var miner = await node.GetMinerAsync(Address.Parse(address), cancellationToken).ConfigureAwait(false);
            var stake = miner?.Stake ?? Amount.Zero;
            _cache[address] = (stake, now);
            return stake;
        }
        catch (NodeClientException)
        {
            return _cache.TryGetValue(address, out var stale) ? stale.Stake : null;
        }
    }
}
