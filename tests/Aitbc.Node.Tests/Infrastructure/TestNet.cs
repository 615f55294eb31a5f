using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>A test key from a known seed (SHA-256 of its name), with the nonce of its next transaction.</summary>
public sealed class Wallet : IDisposable
{
    private long _nextNonce = 1;

    public Wallet(string name, string chainId)
    {
        Name = name;
        ChainId = chainId;
        Key = Ed25519KeyPair.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("aitbc-node-tests/" + name)));
    }

    public string Name { get; }

    public string ChainId { get; }

    public Ed25519KeyPair Key { get; }

    public Address Address => Key.Address;

    /// <summary>The nonce the next transaction will carry (account nonce + 1 when in step with the chain).</summary>
    public ulong NextNonce
    {
        get => (ulong)Interlocked.Read(ref _nextNonce);
        set => Interlocked.Exchange(ref _nextNonce, (long)value);
    }

    /// <summary>A signed transfer with the next nonce (or the one given, which leaves the counter alone).</summary>
    public SignedTransaction Transfer(Address to, ulong micro, ulong? nonce = null) =>
        Sign(new TransferBody(to, new Amount(micro)), nonce);

    /// <summary>Signs any transaction body with the next nonce (or the one given, which leaves the counter alone).</summary>
    public SignedTransaction Sign(TxBody body, ulong? nonce = null)
    {
        var n = nonce ?? (ulong)Interlocked.Increment(ref _nextNonce) - 1;
        return new UnsignedTransaction(ChainId, Key.PublicKey, n, body).Sign(Key);
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// A chain for one test: a temp home, funded wallets with known seeds, the validator's data dir made by
/// <c>aitbc-node init</c>, and every node process started for it (all killed, and the home removed, on dispose).
/// </summary>
public sealed class TestNet : IAsyncDisposable
{
    public const ulong FundedMicro = 1_000_000_000_000; // 1,000,000 AITBC each
    private readonly List<NodeProcess> _nodes = [];
    private readonly List<Wallet> _wallets = [];

    private TestNet(string label, int blockIntervalMs)
    {
        Home = new TempDirectory(label);
        ChainId = $"aitbc-test-{label}";
        BlockIntervalMs = blockIntervalMs;
        Coordinator = NewWallet($"{label}-coordinator");
    }

    public TempDirectory Home { get; }

    public string ChainId { get; }

    public int BlockIntervalMs { get; }

    public Wallet Coordinator { get; }

    public IReadOnlyList<Wallet> Funded { get; private set; } = [];

    public string ValidatorDir => Home.Sub("validator");

    public ulong TotalSupply => FundedMicro * (ulong)Funded.Count;

    /// <summary>Generates <paramref name="fundedWallets"/> wallets (saved as key files under keys/) and runs <c>aitbc-node init</c> for the validator.</summary>
    public static async Task<TestNet> CreateAsync(string label, int fundedWallets = 8, int blockIntervalMs = 50)
    {
        var net = new TestNet(label, blockIntervalMs);
        try
        {
            net.Funded = [.. Enumerable.Range(0, fundedWallets).Select(i => net.NewWallet($"{label}-funded-{i}"))];
            foreach (var wallet in net.Funded.Append(net.Coordinator))
            {
                KeyFile.Save(Path.Combine(net.Home.Sub("keys"), wallet.Name + ".json"), wallet.Key);
            }
            var args = new List<string>
            {
                "init", "--data-dir", net.ValidatorDir, "--chain-id", net.ChainId,
                "--coordinator", net.Coordinator.Address.Value,
                "--block-interval-ms", blockIntervalMs.ToString(CultureInfo.InvariantCulture),
            };
            foreach (var wallet in net.Funded)
            {
                args.AddRange(["--alloc", $"{wallet.Address.Value}={FundedMicro}"]);
            }
            var (exitCode, output) = await NodeProcess.RunToExitAsync([.. args]);
            Assert.True(exitCode == 0, $"aitbc-node init failed ({exitCode}):\n{output}");
            Assert.True(File.Exists(Path.Combine(net.ValidatorDir, "config", "genesis.json")), output);
            Assert.True(File.Exists(Path.Combine(net.ValidatorDir, "config", "validator_key.json")), output);
            return net;
        }
        catch
        {
            await net.DisposeAsync();
            throw;
        }
    }

    /// <summary>A deterministic wallet that genesis did not fund.</summary>
    public Wallet NewWallet(string name)
    {
        var wallet = new Wallet(name, ChainId);
        lock (_wallets)
        {
            _wallets.Add(wallet);
        }
        return wallet;
    }

    /// <summary>Starts (or restarts) the validator on its data dir; on a free port unless <paramref name="port"/> is given.</summary>
    public Task<NodeProcess> StartValidatorAsync(int? port = null) => TrackAsync(NodeProcess.StartAsync(ValidatorDir, moniker: "validator", fixedPort: port));

    /// <summary>A follower in its own data dir (no init: it fetches genesis from <paramref name="validatorUrl"/>); a restart reuses the dir.</summary>
    public Task<NodeProcess> StartFollowerAsync(Uri validatorUrl, string name = "follower") =>
        TrackAsync(NodeProcess.StartAsync(Home.Sub(name), follow: validatorUrl, moniker: name));

    private async Task<NodeProcess> TrackAsync(Task<NodeProcess> starting)
    {
        var node = await starting;
        lock (_nodes)
        {
            _nodes.Add(node);
        }
        return node;
    }

    public async ValueTask DisposeAsync()
    {
        List<NodeProcess> nodes;
        lock (_nodes)
        {
            nodes = [.. _nodes];
        }
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
        foreach (var wallet in _wallets)
        {
            wallet.Dispose();
        }
        Home.Dispose();
    }
}
