using System.Diagnostics;
using Aitbc.Chain;
using Aitbc.Chain.Genesis;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Aitbc.Node;

namespace Aitbc.Load;

/// <summary>What a pre-built chain holds that the scale run reads back: sampled transactions and accounts.</summary>
public sealed record ScaleChainSeed(long Height, IReadOnlyList<(long Height, string Hash)> Txs, IReadOnlyList<Address> Accounts, double Seconds);

/// <summary>
/// Builds a node's data directory holding N blocks, fast: the real <see cref="Blockchain"/> (CheckTx, block production,
/// app hash, the node's own SQLite store) driven directly on a clock that steps one block interval per block, so no
/// block waits for its interval and the blocks' times lie in the past. Each block holds one signed transfer (blocks are
/// never empty on this chain); the first also holds the client's allowance for the coordinator, so the network started
/// on it is ready for jobs. Recipients are fresh accounts, one per ten blocks, so state grows with the chain.
/// </summary>
public static class ScaleChain
{
    private const int Senders = 1_000;

    public static async Task<ScaleChainSeed> BuildAsync(
        NodeOptions node, string chainId, Ed25519KeyPair coordinator, Ed25519KeyPair client, IReadOnlyList<Ed25519KeyPair> miners, Amount clientFunds, Amount minerFunds,
        long blocks, int blockIntervalMs, TextWriter log, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var interval = TimeSpan.FromMilliseconds(blockIntervalMs);
        var clock = new SteppingClock(DateTimeOffset.UtcNow - (interval * (blocks + 10)));
        var senders = Enumerable.Range(0, Senders).Select(_ => Ed25519KeyPair.Generate()).ToArray();
        var allocations = new List<GenesisAllocation> { new(client.Address, clientFunds) };
        allocations.AddRange(miners.Select(m => new GenesisAllocation(m.Address, minerFunds)));
        allocations.AddRange(senders.Select(s => new GenesisAllocation(s.Address, Amount.FromAitbc(1_000_000))));
        var genesis = GenesisInit.Run(node, chainId, [coordinator.Address], allocations, blockIntervalMs, maxBlockTxs: 5000, time: clock);
        var recipients = Enumerable.Range(0, (int)Math.Max(1, blocks / 10)).Select(i =>
        {
            var payload = new byte[20];
            BitConverter.TryWriteBytes(payload, i);
            payload[19] = 0xA5;
            return Address.FromPayload(payload);
        }).ToArray();

        var samples = new List<(long, string)>();
        var sampleEvery = Math.Max(1, blocks / 2_000);
        using (var chain = Blockchain.Open(new ChainOptions { DataDirectory = node.ChainDirectory, ValidatorKey = KeyFile.Load(node.ValidatorKeyPath) }, genesis, clock))
        {
            var approve = new UnsignedTransaction(chainId, client.PublicKey, 1, new ApproveBody(coordinator.Address, clientFunds)).Sign(client);
            Admit(chain, approve.WireBytes);
            // Signing is the costliest step that is not the chain's own: it runs ahead, on every core, in chunks.
            const int Chunk = 20_000;
            long checkTicks = 0, produceTicks = 0;
            var storeTime = TimeSpan.Zero;
            Task<SignedTransaction[]>? next = null;
            for (long from = 1; from <= blocks; from += Chunk)
            {
                var count = (int)Math.Min(Chunk, blocks - from + 1);
                var first = from;
                var signing = next ?? Task.Run(() => Sign(chainId, senders, recipients, first, count), cancellationToken);
                var following = from + Chunk;
                next = following <= blocks
                    ? Task.Run(() => Sign(chainId, senders, recipients, following, (int)Math.Min(Chunk, blocks - following + 1)), cancellationToken)
                    : null;
                var txs = await signing.ConfigureAwait(false);
                for (var i = 0; i < txs.Length; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var t0 = Stopwatch.GetTimestamp();
                    Admit(chain, txs[i].WireBytes);
                    clock.Advance(interval);
                    var t1 = Stopwatch.GetTimestamp();
                    var block = await chain.ProduceBlockAsync(cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException("no block was produced");
                    checkTicks += t1 - t0;
                    produceTicks += Stopwatch.GetTimestamp() - t1;
                    storeTime += chain.LastBlockTimings!.Store;
                    if (block.Height % sampleEvery == 0)
                    {
                        samples.Add((block.Height, txs[i].Hash));
                    }
                }
                var done = from + count - 1;
                if (done % 100_000 == 0 || done == blocks)
                {
                    log.WriteLine($"chain: {done:N0}/{blocks:N0} blocks, {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s, CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0} s (CheckTx {checkTicks * 1e6 / Stopwatch.Frequency / done:0} µs, block {produceTicks * 1e6 / Stopwatch.Frequency / done:0} µs of which store {storeTime.TotalMicroseconds / done:0} µs, per block)");
                }
            }
            var height = chain.Status.Height;
            var accounts = recipients.Take(1_000).Concat(senders.Take(1_000).Select(s => s.Address)).ToArray();
            return new ScaleChainSeed(height, samples, accounts, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private static void Admit(Blockchain chain, byte[] wire)
    {
        var check = chain.CheckTx(wire, addToMempool: true);
        if (!check.IsOk)
        {
            throw new InvalidOperationException($"seed transaction refused: {check.Result.Log}");
        }
    }

    /// <summary>Transfers for blocks first..first+count-1: block h's comes from sender h mod 1000 at nonce h / 1000 + 1.</summary>
    private static SignedTransaction[] Sign(string chainId, Ed25519KeyPair[] senders, Address[] recipients, long first, int count)
    {
        var txs = new SignedTransaction[count];
        Parallel.For(0, count, i =>
        {
            var n = first + i - 1;
            var sender = senders[n % senders.Length];
            txs[i] = new UnsignedTransaction(chainId, sender.PublicKey, (ulong)(n / senders.Length) + 1,
                new TransferBody(recipients[n / 10 % recipients.Length], new Amount(1))).Sign(sender);
        });
        return txs;
    }

    /// <summary>A clock that moves only when told: block production never waits, and block times are the steps.</summary>
    private sealed class SteppingClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
