using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Tests.Infrastructure;
using Aitbc.Core.Crypto;

namespace Aitbc.Client.Tests;

/// <summary>The node tests share one in-process validator; each test sends from its own funded wallets.</summary>
[CollectionDefinition(Name)]
public sealed class NodeCollection : ICollectionFixture<NodeFixture>
{
    public const string Name = "in-process-node";
}

/// <summary>One real node and a client for it, with quick retries so a failing test fails fast.</summary>
public sealed class NodeFixture : IAsyncLifetime
{
    private InProcessNode? _node;

    public InProcessNode Node => _node ?? throw new InvalidOperationException("fixture not initialised");

    public NodeClient Client { get; private set; } = null!;

    public static RetryOptions QuickRetries { get; } = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) };

    /// <summary>Funded wallet <paramref name="i"/>: tests name distinct indexes so that none shares a nonce.</summary>
    public Ed25519KeyPair Wallet(int i) => Node.Funded[i];

    public async Task InitializeAsync()
    {
        _node = await InProcessNode.StartAsync("node", fundedWallets: 17);
        Client = NodeClient.Create(_node.Url, QuickRetries);
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
    }
}
