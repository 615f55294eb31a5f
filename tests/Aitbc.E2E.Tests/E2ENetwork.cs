using System.Globalization;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Aitbc.Node;

namespace Aitbc.E2E.Tests;

/// <summary>
/// A network of separate processes, built the way an operator would with the real executables: <c>aitbc-node init</c>
/// and <c>start</c>, <c>aitbc-coordinator start</c>, API keys through the admin API, the client's <c>approve</c>,
/// <c>aitbc-miner make-test-model</c> and two embedded miners (different prices) serving the seed's model name, plus
/// miners on a fake Ollama for the backend-failure and killed-miner paths. Shared by the tests of one collection.
/// </summary>
public sealed class E2ENetwork : IAsyncLifetime
{
    public const string SeedModel = "llama3.2:latest";
    public const string BrokenModel = "broken:latest";
    public const string StalledModel = "stalled:latest";
    public const string GatedModel = "gated:latest";
    public const string UnservedModel = "nobody-serves:1b";
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(3);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);
    private readonly List<ServiceProcess> _processes = [];

    public string Home { get; } = TempDir.Create("e2e");

    public string AdminKey { get; } = "e2e-admin-key-" + Guid.NewGuid().ToString("N");

    public Ed25519KeyPair CoordinatorKey { get; } = Ed25519KeyPair.Generate();

    public Ed25519KeyPair ClientKey { get; } = Ed25519KeyPair.Generate();

    /// <summary>A cheap and a dear embedded miner, then two miners on the fake Ollama (its broken and stalled models).</summary>
    public IReadOnlyList<Ed25519KeyPair> MinerKeys { get; } = [.. Enumerable.Range(0, 4).Select(_ => Ed25519KeyPair.Generate())];

    public static readonly string[] MinerPrices = ["0.05", "0.10", "0.02", "0.02"];

    public Uri NodeUrl { get; private set; } = null!;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public string ClientApiKey { get; private set; } = null!;

    public IReadOnlyList<string> MinerApiKeys { get; private set; } = [];

    public ServiceProcess Coordinator { get; private set; } = null!;

    public IReadOnlyList<ServiceProcess> Miners => _miners;

    private readonly List<ServiceProcess> _miners = [];

    public FakeOllama Ollama { get; private set; } = null!;

    public Amount TotalSupply { get; private set; }

    public NodeClient Node { get; private set; } = null!;

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
        Directory.CreateDirectory(Home);
        var coordinatorKeyPath = Path.Combine(Home, "coordinator_key.json");
        KeyFile.Save(coordinatorKeyPath, CoordinatorKey);

        // The chain: genesis with the coordinator named, the client and the miners funded.
        var nodeDir = Path.Combine(Home, "node");
        var funds = new List<string> { $"{ClientKey.Address.Value}=1000000000000" };
        funds.AddRange(MinerKeys.Select(k => $"{k.Address.Value}=10000000000"));
        var init = await ServiceProcess.RunAsync("aitbc-node", ["init", "--chain-id", "aitbc-e2e", "--data-dir", nodeDir,
            "--coordinator", CoordinatorKey.Address.Value, "--alloc", .. funds, "--block-interval-ms", "50"]);
        Assert.True(init.ExitCode == 0, init.Stdout + init.Stderr);
        TotalSupply = new Amount(1_000_000_000_000 + 10_000_000_000UL * (ulong)MinerKeys.Count);
        var nodePort = ServiceProcess.FreePort();
        NodeUrl = new Uri($"http://127.0.0.1:{nodePort}/");
        Start(await ServiceProcess.StartAsync("aitbc-node", ["start", "--data-dir", nodeDir, "--port", Port(nodePort), "--moniker", "e2e", "--log-dir", LogDirectory("node")], new Uri(NodeUrl, "healthz")));
        Node = NodeClient.Create(NodeUrl);

        await StartCoordinatorAsync();

        using (var admin = CoordinatorClient.Create(CoordinatorUrl, AdminKey))
        {
            ClientApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("client", Address: ClientKey.Address.Value))).Key;
            var minerKeys = new List<string>();
            foreach (var key in MinerKeys)
            {
                minerKeys.Add((await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: key.PublicKey.Base64))).Key);
            }
            MinerApiKeys = minerKeys;
        }

        // The client allows the coordinator to escrow its budgets (what `aitbc wallet approve` sends).
        var client = await TxSender.CreateAsync(Node, ClientKey);
        var approved = await client.SendAndCommitAsync(new ApproveBody(CoordinatorKey.Address, Amount.FromAitbc(100_000)));
        Assert.True(approved.IsOk, approved.Log);

        // The model, written by the real command.
        var model = Path.Combine(Home, "test-model.gguf");
        var made = await ServiceProcess.RunAsync("aitbc-miner", ["make-test-model", "--out", model]);
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);

        Ollama = await FakeOllama.StartAsync();
        for (var i = 0; i < MinerKeys.Count; i++)
        {
            var backend = i < 2
                ? new[] { "--backend", "embedded", "--model-path", model, "--model-name", SeedModel, "--threads", "1" }
                : ["--backend", "ollama", "--backend-url", Ollama.Url.AbsoluteUri];
            _miners.Add(await StartMinerAsync(i, backend));
        }
        await WaitForMinersAsync(MinerKeys.Count);
    }

    /// <summary>Starts the coordinator (again, on the same port and data when it ran before), reaching the node at <paramref name="node"/>.</summary>
    public async Task StartCoordinatorAsync(Uri? node = null)
    {
        var port = CoordinatorUrl?.Port ?? ServiceProcess.FreePort();
        CoordinatorUrl = new Uri($"http://127.0.0.1:{port}/");
        Coordinator = Start(await ServiceProcess.StartAsync("aitbc-coordinator",
            ["start", "--data-dir", Path.Combine(Home, "coordinator"), "--port", Port(port), "--node", (node ?? NodeUrl).AbsoluteUri,
             "--log-dir", LogDirectory("coordinator"),
             "--coordinator-key", Path.Combine(Home, "coordinator_key.json"),
             "--queue-timeout", Seconds(QueueTimeout), "--heartbeat-interval", Seconds(HeartbeatInterval)],
            new Uri(CoordinatorUrl, "readyz"),
            new Dictionary<string, string> { ["AITBC_ADMIN_KEY"] = AdminKey }));
    }

    private async Task<ServiceProcess> StartMinerAsync(int index, string[] backend)
    {
        var port = ServiceProcess.FreePort();
        var keyPath = Path.Combine(Home, $"miner-{index + 1}", "config", "miner_key.json");
        if (!File.Exists(keyPath))
        {
            KeyFile.Save(keyPath, MinerKeys[index]);
        }
        // One miner runs as `aitbc miner start` (the CLI hosting the daemon), the others as `aitbc-miner start`.
        var (program, command) = index == 1 ? ("aitbc", new[] { "miner", "start" }) : ("aitbc-miner", new[] { "start" });
        return Start(await ServiceProcess.StartAsync(program,
            [.. command, "--data-dir", Path.Combine(Home, $"miner-{index + 1}"), "--log-dir", LogDirectory($"miner-{index + 1}"), "--port", Port(port), "--coordinator", CoordinatorUrl.AbsoluteUri,
             "--node", NodeUrl.AbsoluteUri, "--stake", index == 1 ? "500" : "1000", "--price", MinerPrices[index], "--capacity", "2", .. backend],
            new Uri($"http://127.0.0.1:{port}/healthz"),
            new Dictionary<string, string> { ["AITBC_MINER_API_KEY"] = MinerApiKeys[index] }));
    }

    /// <summary>Until the coordinator lists <paramref name="count"/> miners online with their stake on chain.</summary>
    public async Task WaitForMinersAsync(int count)
    {
        using var client = ClientApi();
        await Poll.UntilAsync(async () =>
        {
            try
            {
                var market = await client.GetMarketMinersAsync();
                return market.Miners.Count(m => m.Online && m.Stake != "0") >= count;
            }
            catch (Aitbc.Client.Rest.RestClientException)
            {
                return false;
            }
        }, 60_000);
    }

    /// <summary>Each service's log directory, named explicitly so a machine with a writable /var/log/aitbc changes nothing.</summary>
    public string LogDirectory(string service) => Path.Combine(Home, "logs", service);

    /// <summary>Every log file the network's services wrote.</summary>
    public IEnumerable<string> LogFiles() => Directory.EnumerateFiles(Path.Combine(Home, "logs"), "*.log", SearchOption.AllDirectories);

    public CoordinatorClient ClientApi() => CoordinatorClient.Create(CoordinatorUrl, ClientApiKey);

    public CoordinatorClient AdminApi() => CoordinatorClient.Create(CoordinatorUrl, AdminKey);

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

    private ServiceProcess Start(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }
        Node?.Dispose();
        if (Ollama is not null)
        {
            await Ollama.DisposeAsync();
        }
        CoordinatorKey.Dispose();
        ClientKey.Dispose();
        foreach (var key in MinerKeys)
        {
            key.Dispose();
        }
        TempDir.Delete(Home);
    }
}

[CollectionDefinition(Name)]
public sealed class E2ECollection : ICollectionFixture<E2ENetwork>
{
    public const string Name = "e2e network";
}
