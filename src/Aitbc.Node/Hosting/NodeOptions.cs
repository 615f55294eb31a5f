namespace Aitbc.Node;

/// <summary>Everything a node process needs to start; every default lives here.</summary>
public sealed record NodeOptions
{
    public const int DefaultPort = 8006;

    public required string DataDirectory { get; init; }

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>RPC port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Serve HTTPS with this certificate; null serves plain HTTP (loopback, or behind a TLS proxy).</summary>
    public Aitbc.Core.Net.TlsServerSettings? Tls { get; init; }

    /// <summary>A validator's RPC URL to follow; null runs this node as the validator.</summary>
    public Uri? FollowUrl { get; init; }

    /// <summary>Where node.log goes; defaults to &lt;data-dir&gt;/logs.</summary>
    public string? LogDirectory { get; init; }

    public bool LogToConsole { get; init; } = true;

    public string Moniker { get; init; } = Environment.MachineName;

    public TimeSpan FollowPollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan CommitTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What one JSON-RPC request may make the node build (answer bytes, search work).</summary>
    public Rpc.RpcLimits RpcLimits { get; init; } = new();

    public string ConfigDirectory => Path.Combine(DataDirectory, "config");

    public string ChainDirectory => Path.Combine(DataDirectory, "data");

    public string GenesisPath => Path.Combine(ConfigDirectory, "genesis.json");

    public string ValidatorKeyPath => Path.Combine(ConfigDirectory, "validator_key.json");

    public string NodeKeyPath => Path.Combine(ConfigDirectory, "node_key.json");

    public string EffectiveLogDirectory => LogDirectory ?? Path.Combine(DataDirectory, "logs");
}
