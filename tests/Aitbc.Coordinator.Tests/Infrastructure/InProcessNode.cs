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

namespace Aitbc.Coordinator.Tests.Infrastructure;

/// <summary>
/// A real validator node in the test process (port 0, fresh temp dir) whose genesis names several coordinator keys —
/// so a test can run its own coordinator without sharing a nonce — and funds wallets with known seeds.
/// </summary>
public sealed class InProcessNode : IAsyncDisposable
{
    public const ulong FundedMicro = 1_000_000_000; // 1,000 AITBC each

    private readonly WebApplication _app;
    private readonly string _home;

    private InProcessNode(WebApplication app, string home, Uri url, IReadOnlyList<Ed25519KeyPair> coordinators, IReadOnlyList<Ed25519KeyPair> funded)
    {
        _app = app;
        _home = home;
        Url = url;
        Coordinators = coordinators;
        Funded = funded;
    }

    public Uri Url { get; }

    /// <summary>Keys named coordinators in genesis; unfunded.</summary>
    public IReadOnlyList<Ed25519KeyPair> Coordinators { get; }

    public IReadOnlyList<Ed25519KeyPair> Funded { get; }

    public static Ed25519KeyPair Key(string name) =>
        Ed25519KeyPair.FromSeed(SHA256.HashData(Encoding.UTF8.GetBytes("aitbc-coordinator-tests/" + name)));

    public static async Task<InProcessNode> StartAsync(int coordinators, int fundedWallets)
    {
        var home = Path.Combine(Path.GetTempPath(), $"aitbc-coord-tests-node-{Guid.NewGuid().ToString("N")[..12]}");
        var coordinatorKeys = Enumerable.Range(0, coordinators).Select(i => Key($"coordinator-{i}")).ToList();
        var funded = Enumerable.Range(0, fundedWallets).Select(i => Key($"funded-{i}")).ToList();
        var options = new NodeOptions { DataDirectory = home, Port = 0, LogToConsole = false, Moniker = "coordinator-tests" };
        GenesisInit.Run(options, "aitbc-coordinator-tests", [.. coordinatorKeys.Select(k => k.Address)],
            [.. funded.Select(k => new GenesisAllocation(k.Address, new Amount(FundedMicro)))],
            blockIntervalMs: 20, maxBlockTxs: 1000);
        var app = await NodeHost.BuildAsync(options);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new InProcessNode(app, home, new Uri(address + "/"), coordinatorKeys, funded);
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
    public static string Create(string label) => Path.Combine(Path.GetTempPath(), $"aitbc-coord-tests-{label}-{Guid.NewGuid().ToString("N")[..12]}");

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

/// <summary>Waits for something the chain or a worker reaches on its own, with a deadline.</summary>
public static class Poll
{
    public static async Task UntilAsync(Func<Task<bool>> condition, int timeoutMs = 10_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"condition not met within {timeoutMs} ms");
            await Task.Delay(20);
        }
    }
}
