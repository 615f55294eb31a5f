using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;

namespace Aitbc.E2E.Tests;

/// <summary>
/// The seed's network of separate processes (<see cref="ServiceNetwork"/>): node, coordinator, two embedded miners
/// (different prices) serving the seed's model name made by <c>aitbc-miner make-test-model</c>, plus miners on a fake
/// Ollama for the backend-failure and killed-miner paths. Shared by the tests of one collection.
/// </summary>
public sealed class E2ENetwork : IAsyncLifetime
{
    public const string SeedModel = "llama3.2:latest";
    public const string BrokenModel = NetworkOllama.BrokenModel;
    public const string StalledModel = NetworkOllama.StalledModel;
    public const string GatedModel = NetworkOllama.GatedModel;
    public const string UnservedModel = "nobody-serves:1b";
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>A cheap and a dear embedded miner, then two miners on the fake Ollama (its broken and stalled models).</summary>
    private readonly ServiceNetwork _net = new("e2e", minerCount: 4);
    private readonly List<ServiceProcess> _miners = [];

    public static readonly string[] MinerPrices = ["0.05", "0.10", "0.02", "0.02"];

    public string Home => _net.Home;

    public string AdminKey => _net.AdminKey;

    public Ed25519KeyPair CoordinatorKey => _net.CoordinatorKey;

    public Ed25519KeyPair ClientKey => _net.ClientKey;

    public IReadOnlyList<Ed25519KeyPair> MinerKeys => _net.MinerKeys;

    public Uri NodeUrl => _net.NodeUrl;

    public Uri CoordinatorUrl => _net.CoordinatorUrl;

    public string ClientApiKey => _net.ClientApiKey;

    public IReadOnlyList<string> MinerApiKeys => _net.MinerApiKeys;

    public ServiceProcess Coordinator => _net.Coordinator;

    public IReadOnlyList<ServiceProcess> Miners => _miners;

    public FakeOllama Ollama { get; private set; } = null!;

    public Amount TotalSupply => _net.TotalSupply;

    public NodeClient Node => _net.Node;

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        await _net.InitChainAsync("aitbc-e2e");
        await _net.StartNodeAsync();
        await StartCoordinatorAsync();
        await _net.CreateApiKeysAsync();
        await _net.ApproveAsync(Amount.FromAitbc(100_000));

        // The model, written by the real command.
        var model = Path.Combine(Home, "test-model.gguf");
        var made = await ServiceProcess.RunAsync("aitbc-miner", ["make-test-model", "--out", model]);
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);

        Ollama = await NetworkOllama.StartAsync();
        for (var i = 0; i < MinerKeys.Count; i++)
        {
            var backend = i < 2
                ? new[] { "--backend", "embedded", "--model-path", model, "--model-name", SeedModel, "--threads", "1" }
                : ["--backend", "ollama", "--backend-url", Ollama.Url.AbsoluteUri];
            string[] args = ["--stake", i == 1 ? "500" : "1000", "--price", MinerPrices[i], "--capacity", "2", .. backend];
            // One miner runs as `aitbc miner start` (the CLI running aitbc-miner as its child), the others as `aitbc-miner start`.
            _miners.Add(i == 1 ? await _net.StartMinerAsync(i, args, "aitbc", "miner", "start") : await _net.StartMinerAsync(i, args));
        }
        await WaitForMinersAsync(MinerKeys.Count);
    }

    /// <summary>Starts the coordinator (again, on the same port and data when it ran before), reaching the node at <paramref name="node"/>.</summary>
    public Task StartCoordinatorAsync(Uri? node = null) =>
        _net.StartCoordinatorAsync(node, ["--queue-timeout", ServiceNetwork.Seconds(QueueTimeout), "--heartbeat-interval", ServiceNetwork.Seconds(HeartbeatInterval)]);

    /// <summary>Until the coordinator lists <paramref name="count"/> miners online with their stake on chain.</summary>
    public Task WaitForMinersAsync(int count) => _net.WaitForMinersAsync(count);

    /// <summary>Each service's log directory, named explicitly so a machine with a writable /var/log/aitbc changes nothing.</summary>
    public string LogDirectory(string service) => _net.LogDirectory(service);

    /// <summary>Every log file the network's services wrote.</summary>
    public IEnumerable<string> LogFiles() => _net.LogFiles();

    public CoordinatorClient ClientApi() => _net.ClientApi();

    public CoordinatorClient AdminApi() => _net.AdminApi();

    /// <summary>The environment a user has after <c>source devnet.env</c>: the CLI reaches this network and nothing of the developer's own.</summary>
    public Dictionary<string, string> CliEnvironment(Uri? coordinator = null) => new()
    {
        ["AITBC_URL"] = (coordinator ?? CoordinatorUrl).AbsoluteUri.TrimEnd('/'),
        ["AITBC_NODE_URL"] = NodeUrl.AbsoluteUri.TrimEnd('/'),
        ["CLIENT_API_KEY"] = ClientApiKey,
        ["AITBC_HOME"] = Path.Combine(Home, "cli-home"),
        ["NO_COLOR"] = "1",
    };

    /// <summary>Runs <c>aitbc ARGS</c> as its own process.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args) =>
        ServiceProcess.RunAsync("aitbc", args, CliEnvironment(), TimeSpan.FromSeconds(120));

    public async Task DisposeAsync()
    {
        await _net.DisposeAsync();
        if (Ollama is not null)
        {
            await Ollama.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class E2ECollection : ICollectionFixture<E2ENetwork>
{
    public const string Name = "e2e network";
}
