using System.Security.Cryptography;
using System.Text;
using Aitbc.Chain.Genesis;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Cli.Tests.Infrastructure;

/// <summary>
/// A real validator node hosted in the test process (NodeHost on port 0) over a fresh temp data dir made by
/// GenesisInit: a coordinator key named in genesis and funded wallets with known seeds.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    public const ulong FundedMicro = 1_000_000_000_000; // 1,000,000 AITBC each

    private readonly WebApplication _app;
    private readonly string _home;
    private readonly List<Ed25519KeyPair> _keys;

    private InProcessNode(WebApplication app, string home, string chainId, Uri url, Ed25519KeyPair coordinator, IReadOnlyList<Ed25519KeyPair> funded)
    {
        _app = app;
        _home = home;
        ChainId = chainId;
        Url = url;
        Coordinator = coordinator;
        Funded = funded;
        _keys = [coordinator, .. funded];
    }

    public string ChainId { get; }

    public Uri Url { get; }

    /// <summary>The genesis coordinator: the only key allowed to open and close escrow. Unfunded.</summary>
    public Ed25519KeyPair Coordinator { get; }

    public IReadOnlyList<Ed25519KeyPair> Funded { get; }

    public Amount TotalSupply => new(FundedMicro * (ulong)Funded.Count);

    /// <summary>A deterministic key from its name, so failures are reproducible.</summary>
    public static Ed25519KeyPair Key(string name) =>
        Ed25519KeyPair.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("aitbc-cli-tests/" + name)));

    public static async Task<InProcessNode> StartAsync(string label, int fundedWallets)
    {
        var home = Path.Combine(Path.GetTempPath(), $"aitbc-cli-tests-{label}-{Guid.NewGuid().ToString("N")[..12]}");
        var chainId = $"aitbc-cli-{label}";
        var coordinator = Key($"{label}-coordinator");
        var funded = Enumerable.Range(0, fundedWallets).Select(i => Key($"{label}-funded-{i}")).ToList();
        var options = new NodeOptions { DataDirectory = home, Port = 0, LogToConsole = false, Moniker = "cli-tests" };
        try
        {
            GenesisInit.Run(options, chainId, [coordinator.Address],
                [.. funded.Select(k => new GenesisAllocation(k.Address, new Amount(FundedMicro)))],
                blockIntervalMs: 20, maxBlockTxs: 1000);
            var app = await NodeHost.BuildAsync(options);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new InProcessNode(app, home, chainId, new Uri(address + "/"), coordinator, funded);
        }
        catch
        {
            DeleteHome(home);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in _keys)
        {
            key.Dispose();
        }
        DeleteHome(_home);
    }

    private static void DeleteHome(string home)
    {
        try
        {
            if (Directory.Exists(home))
            {
                Directory.Delete(home, recursive: true);
            }
        }
        catch (IOException)
        {
            // A log file still held open by the logger; the temp folder is cleaned by the system in time.
        }
    }
}
