using System.Text.Json;
using Aitbc.Chain.Genesis;
using Aitbc.Core;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;

namespace Aitbc.Node;

/// <summary><c>aitbc-node init</c>: a validator key and a genesis naming it, the coordinators and the initial balances.</summary>
public static class GenesisInit
{
    public static GenesisDocument Run(NodeOptions options, string chainId, IReadOnlyList<Address> coordinators,
        IReadOnlyList<GenesisAllocation> allocations, int blockIntervalMs, int maxBlockTxs, TimeProvider? time = null)
    {
        if (File.Exists(options.GenesisPath))
        {
            throw new InvalidOperationException($"{options.GenesisPath} already exists: this data directory is initialised");
        }
        Core.PrivateFiles.CreateDirectory(options.ConfigDirectory);
        var validator = KeyFile.LoadOrCreate(options.ValidatorKeyPath);
        var genesis = new GenesisDocument(
            chainId,
            BlockHeader.FormatTime((time ?? TimeProvider.System).GetUtcNow()),
            validator.PublicKey.Base64,
            coordinators,
            allocations,
            BlockIntervalMs: blockIntervalMs,
            MaxBlockTxs: maxBlockTxs,
            MempoolMaxTxs: Math.Max(100_000, maxBlockTxs)).Validate();
        File.WriteAllBytes(options.GenesisPath, JsonSerializer.SerializeToUtf8Bytes(genesis, NodeHost.IndentedWire));
        return genesis;
    }

    /// <summary>Parses <c>ADDRESS=AMOUNT</c>, the amount in uaitbc.</summary>
    public static GenesisAllocation ParseAllocation(string text)
    {
        var parts = text.Split('=', 2);
        if (parts.Length != 2 || !Address.TryParse(parts[0], out var address) || !Amount.TryParseMicro(parts[1], out var amount))
        {
            throw new FormatException($"'{text}' is not ADDRESS=UAITBC (e.g. aitbc1…=1000000000)");
        }
        return new GenesisAllocation(address, amount);
    }
}
