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

namespace Aitbc.Testing;

/// <summary>
/// A real validator node hosted in the test process (NodeHost on port 0) over a fresh temp data dir made by
/// GenesisInit: coordinator keys named in genesis (unfunded) and funded wallets with known seeds.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    public const ulong DefaultFundedMicro = 1_000_000_000_000; // 1,000,000 AITBC each

    private readonly WebApplication _app;
    private readonly string _home;

    private InProcessNode(WebApplication app, string home, string chainId, Uri url, IReadOnlyList<Ed25519KeyPair> coordinators,
        IReadOnlyList<Ed25519KeyPair> funded, ulong fundedMicro)
    {
        _app = app;
        _home = home;
        ChainId = chainId;
        Url = url;
        Coordinators = coordinators;
        Funded = funded;
        FundedMicro = fundedMicro;
    }

    public string ChainId { get; }

    public Uri Url { get; }

    /// <summary>Keys named coordinators in genesis: the only ones allowed to open and close escrow. Unfunded.</summary>
    public IReadOnlyList<Ed25519KeyPair> Coordinators { get; }

    public Ed25519KeyPair Coordinator => Coordinators[0];

    public IReadOnlyList<Ed25519KeyPair> Funded { get; }

    /// <summary>What each funded wallet starts with, in uaitbc.</summary>
    public ulong FundedMicro { get; }

    public Amount TotalSupply => new(FundedMicro * (ulong)Funded.Count);

    /// <summary>A deterministic key from its name, so failures are reproducible.</summary>
    public static Ed25519KeyPair Key(string name) =>
        Ed25519KeyPair.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("aitbc-tests/" + name)));

    public static async Task<InProcessNode> StartAsync(string label, int fundedWallets, int coordinators = 1, ulong fundedMicro = DefaultFundedMicro)
    {
        var home = TempDir.Create($"{label}-node");
        var chainId = $"aitbc-{label}";
        var coordinatorKeys = Enumerable.Range(0, coordinators).Select(i => Key($"{label}-coordinator-{i}")).ToList();
        var funded = Enumerable.Range(0, fundedWallets).Select(i => Key($"{label}-funded-{i}")).ToList();
        var options = new NodeOptions { DataDirectory = home, Port = 0, LogToConsole = false, Moniker = $"{label}-tests" };
        try
        {
            GenesisInit.Run(options, chainId, [.. coordinatorKeys.Select(k => k.Address)],
                [.. funded.Select(k => new GenesisAllocation(k.Address, new Amount(fundedMicro)))],
                blockIntervalMs: 20, maxBlockTxs: 1000);
            var app = await NodeHost.BuildAsync(options);
            await app.StartAsync();
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
            return new InProcessNode(app, home, chainId, new Uri(address + "/"), coordinatorKeys, funded, fundedMicro);
        }
        catch
        {
            TempDir.Delete(home);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var key in Coordinators.Concat(Funded))
        {
            key.Dispose();
        }
        TempDir.Delete(_home);
    }
}

/// <summary>Temp folders for test data.</summary>
public static class TempDir
{
    public static string Create(string label) => Path.Combine(Path.GetTempPath(), $"aitbc-tests-{label}-{Guid.NewGuid().ToString("N")[..12]}");

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // A log file still held open by the logger; the system cleans temp in time.
        }
    }
}
