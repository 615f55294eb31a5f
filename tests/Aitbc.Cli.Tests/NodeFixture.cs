using Aitbc.Cli.Tests.Infrastructure;
using Aitbc.Core.Crypto;

namespace Aitbc.Cli.Tests;

/// <summary>The CLI tests share one in-process validator; each test spends from its own funded wallets.</summary>
[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "cli-node";
}

/// <summary>One real node with funded genesis accounts whose seeds the tests know.</summary>
public sealed class NodeFixture : IAsyncLifetime
{
    private InProcessNode? _node;

    public InProcessNode Node => _node ?? throw new InvalidOperationException("fixture not initialised");

    /// <summary>Funded wallet <paramref name="i"/>: tests name distinct indexes so that none shares a nonce.</summary>
    public Ed25519KeyPair Funded(int i) => Node.Funded[i];

    /// <summary>Two genesis coordinators, so that a receipt signed by one for the other's job can be told apart.</summary>
    public async Task InitializeAsync() => _node = await InProcessNode.StartAsync("cli", fundedWallets: 16, coordinators: 2);

    public async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }

    /// <summary>A harness with the funded key <paramref name="i"/> imported as wallet <paramref name="name"/>.</summary>
    public async Task<CliHarness> HarnessWithFundedAsync(int i, string name = "funded")
    {
        var cli = new CliHarness(Node.Url);
        var seedFile = cli.WriteFile("seed.txt", Convert.ToBase64String(Funded(i).ExportSeed()));
        var result = await cli.RunAsync("wallet", "import", name, "--seed-file", seedFile);
        Assert.True(result.ExitCode == 0, result.ToString());
        File.Delete(seedFile);
        return cli;
    }
}
