using System.Globalization;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;
using Aitbc.Core.Transactions;
using Aitbc.Node;

namespace Aitbc.Testing;

/// <summary>
/// A network of separate processes built the way an operator would with the real executables: <c>aitbc-node init</c>
/// and <c>start</c>, <c>aitbc-coordinator start</c>, API keys through the admin API, the client's <c>approve</c>, and
/// miners started with their keys. Every service restarts on its own port and data, so a test can kill -9 one and
/// bring it back as an operator would. With <c>tls</c> every service serves HTTPS with a certificate from a private CA
/// (<c>--tls-cert</c>/<c>--tls-key</c>) and trusts that CA through <c>AITBC_CA_CERT</c>, as do the clients this class
/// makes. Owns the processes, keys and certificates it makes.
/// </summary>
public sealed class ServiceNetwork : IAsyncDisposable
{
    public const ulong ClientFunds = 1_000_000_000_000;
    public const ulong MinerFunds = 10_000_000_000;
    private readonly List<ServiceProcess> _processes = [];
    private readonly Dictionary<int, int> _minerPorts = [];
    private readonly Dictionary<int, int> _coordinatorPorts = [];
    private readonly Dictionary<string, (string Certificate, string Key)> _serverCertificates = [];
    private readonly TestCertificates? _certificates;
    private int _nodePort;

    /// <param name="name">Prefix of the temporary home.</param>
    /// <param name="minerCount">Miner keys to make, each funded in genesis.</param>
    /// <param name="nodeDirectory">The node's data directory (a mount point, say); default <c>HOME/node</c>.</param>
    /// <param name="tls">Every link HTTPS, with certificates from a private CA made for this network.</param>
    public ServiceNetwork(string name, int minerCount, string? nodeDirectory = null, bool tls = false)
    {
        Home = TempDir.Create(name);
        Directory.CreateDirectory(Home);
        _certificates = tls ? new TestCertificates(Path.Combine(Home, "tls")) : null;
        MinerKeys = [.. Enumerable.Range(0, minerCount).Select(_ => Ed25519KeyPair.Generate())];
        NodeDirectory = nodeDirectory ?? Path.Combine(Home, "node");
    }

    public string Home { get; }

    public string NodeDirectory { get; }

    public string AdminKey { get; } = "net-admin-key-" + Guid.NewGuid().ToString("N");

    public Ed25519KeyPair CoordinatorKey { get; } = Ed25519KeyPair.Generate();

    public Ed25519KeyPair ClientKey { get; } = Ed25519KeyPair.Generate();

    public IReadOnlyList<Ed25519KeyPair> MinerKeys { get; }

    public Uri NodeUrl { get; private set; } = null!;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public string ClientApiKey { get; private set; } = null!;

    public IReadOnlyList<string> MinerApiKeys { get; private set; } = [];

    public Amount TotalSupply { get; private set; }

    public NodeClient Node { get; private set; } = null!;

    public ServiceProcess NodeProcess { get; private set; } = null!;

    public ServiceProcess Coordinator { get; private set; } = null!;

    public string CoordinatorKeyPath => Path.Combine(Home, "coordinator_key.json");

    /// <summary>The private CA's certificate (PEM) when the network runs TLS, else null.</summary>
    public string? CaPath => _certificates?.CaPath;

    private string Scheme => _certificates is null ? "http" : "https";

    /// <summary>Genesis with the coordinator named, the client and every miner funded (<c>aitbc-node init</c>).</summary>
    public async Task InitChainAsync(string chainId, int blockIntervalMs = 50)
    {
        KeyFile.Save(CoordinatorKeyPath, CoordinatorKey);
        var funds = new List<string> { $"{ClientKey.Address.Value}={ClientFunds}" };
        funds.AddRange(MinerKeys.Select(k => $"{k.Address.Value}={MinerFunds}"));
        var init = await ServiceProcess.RunAsync("aitbc-node", ["init", "--chain-id", chainId, "--data-dir", NodeDirectory,
            "--coordinator", CoordinatorKey.Address.Value, "--alloc", .. funds, "--block-interval-ms", Number(blockIntervalMs)]);
        if (init.ExitCode != 0)
        {
            throw new InvalidOperationException($"aitbc-node init failed: {init.Stdout}{init.Stderr}");
        }
        TotalSupply = new Amount(ClientFunds + MinerFunds * (ulong)MinerKeys.Count);
    }

    /// <summary>Starts the node (again, on the same port and data directory when it ran before).</summary>
    public async Task StartNodeAsync()
    {
        if (_nodePort == 0)
        {
            _nodePort = ServiceProcess.FreePort();
            NodeUrl = new Uri($"{Scheme}://127.0.0.1:{_nodePort}/");
            Node = NodeClient.Create(NodeUrl, transport: Transport());
        }
        NodeProcess = Track(await ServiceProcess.StartAsync("aitbc-node",
            ["start", "--data-dir", NodeDirectory, "--port", Number(_nodePort), "--moniker", "net", "--log-dir", LogDirectory("node"), .. TlsArgs("node")],
            new Uri(NodeUrl, "healthz"), Environment([])));
    }

    /// <summary>
    /// Starts the coordinator on SQLite (again, on the same port and data when it ran before), reaching the node at
    /// <paramref name="node"/> (default the node itself), with <paramref name="extraArgs"/> after the common ones.
    /// </summary>
    public async Task StartCoordinatorAsync(Uri? node = null, IEnumerable<string>? extraArgs = null)
    {
        var (process, url) = await StartCoordinatorAsync(0, node, extraArgs);
        (Coordinator, CoordinatorUrl) = (process, url);
    }

    /// <summary>
    /// Starts coordinator process <paramref name="index"/> with the network's coordinator key, on a port and data
    /// directory of its own (the same ones again on a restart): several of them sharing one PostgreSQL database
    /// (<c>--database</c> in <paramref name="extraArgs"/>) make a coordinator cluster. Index 0 is <see cref="Coordinator"/>.
    /// </summary>
    public async Task<(ServiceProcess Process, Uri Url)> StartCoordinatorAsync(int index, Uri? node, IEnumerable<string>? extraArgs)
    {
        if (!_coordinatorPorts.TryGetValue(index, out var port))
        {
            _coordinatorPorts[index] = port = ServiceProcess.FreePort();
        }
        var url = new Uri($"{Scheme}://127.0.0.1:{port}/");
        var process = Track(await ServiceProcess.StartAsync("aitbc-coordinator",
            ["start", "--data-dir", Path.Combine(Home, index == 0 ? "coordinator" : $"coordinator-{index + 1}"), "--port", Number(port), "--node", (node ?? NodeUrl).AbsoluteUri,
             "--log-dir", LogDirectory(index == 0 ? "coordinator" : $"coordinator-{index + 1}"), "--coordinator-key", CoordinatorKeyPath, "--dev", .. TlsArgs("coordinator"), .. extraArgs ?? []],
            new Uri(url, "readyz"),
            Environment([("AITBC_ADMIN_KEY", AdminKey)])));
        return (process, url);
    }

    /// <summary>The client's key (bound to its wallet) and one key per miner, made through the admin API.</summary>
    public async Task CreateApiKeysAsync()
    {
        using var admin = AdminApi();
        ClientApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("client", Address: ClientKey.Address.Value))).Key;
        var minerKeys = new List<string>();
        foreach (var key in MinerKeys)
        {
            minerKeys.Add((await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: key.PublicKey.Base64))).Key);
        }
        MinerApiKeys = minerKeys;
    }

    /// <summary>The client allows the coordinator to escrow its budgets (what <c>aitbc wallet approve</c> sends).</summary>
    public async Task ApproveAsync(Amount allowance)
    {
        var client = await TxSender.CreateAsync(Node, ClientKey);
        var approved = await client.SendAndCommitAsync(new ApproveBody(CoordinatorKey.Address, allowance));
        if (!approved.IsOk)
        {
            throw new InvalidOperationException($"approve failed: {approved.Log}");
        }
    }

    /// <summary>Miner <paramref name="index"/>'s home, holding its key (config/) and outbox (data/outbox.db).</summary>
    public string MinerDirectory(int index) => Path.Combine(Home, $"miner-{index + 1}");

    /// <summary>
    /// Starts miner <paramref name="index"/> (again, on the same port and data when it ran before) as
    /// <c>PROGRAM COMMAND… --data-dir … ARGS</c>, where <paramref name="args"/> name stake, price, capacity and backend.
    /// </summary>
    public async Task<ServiceProcess> StartMinerAsync(int index, IEnumerable<string> args, string program = "aitbc-miner", params string[] command)
    {
        if (!_minerPorts.TryGetValue(index, out var port))
        {
            _minerPorts[index] = port = ServiceProcess.FreePort();
        }
        var keyPath = Path.Combine(MinerDirectory(index), "config", "miner_key.json");
        if (!File.Exists(keyPath))
        {
            KeyFile.Save(keyPath, MinerKeys[index]);
        }
        return Track(await ServiceProcess.StartAsync(program,
            [.. command.Length == 0 ? ["start"] : command, "--data-dir", MinerDirectory(index), "--log-dir", LogDirectory($"miner-{index + 1}"), "--port", Number(port),
             "--coordinator", CoordinatorUrl.AbsoluteUri, "--node", NodeUrl.AbsoluteUri, .. TlsArgs($"miner-{index + 1}"), .. args],
            new Uri($"{Scheme}://127.0.0.1:{port}/healthz"),
            Environment([("AITBC_MINER_API_KEY", MinerApiKeys[index])])));
    }

    /// <summary>Until the coordinator lists <paramref name="count"/> miners online with their stake on chain.</summary>
    public async Task WaitForMinersAsync(int count, int timeoutMs = 60_000)
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
        }, timeoutMs);
    }

    /// <summary>Each service's log directory, named explicitly so a machine with a writable /var/log/aitbc changes nothing.</summary>
    public string LogDirectory(string service) => Path.Combine(Home, "logs", service);

    /// <summary>Every log file the network's services wrote.</summary>
    public IEnumerable<string> LogFiles() => Directory.EnumerateFiles(Path.Combine(Home, "logs"), "*.log", SearchOption.AllDirectories);

    public CoordinatorClient ClientApi() => ClientApi(CoordinatorUrl);

    /// <summary>The client's API at the coordinator process at <paramref name="coordinator"/> (one of a cluster).</summary>
    public CoordinatorClient ClientApi(Uri coordinator) => CoordinatorClient.Create(coordinator, ClientApiKey, transport: Transport());

    public CoordinatorClient AdminApi() => CoordinatorClient.Create(CoordinatorUrl, AdminKey, transport: Transport());

    /// <summary>A client handler trusting the network's CA, or null (the default handler) without TLS.</summary>
    private HttpMessageHandler? Transport() => CaPath is { } ca ? Tls.CreateClientHandler(ca) : null;

    /// <summary><c>--tls-cert</c>/<c>--tls-key</c> for <paramref name="service"/> (the same files on every restart), or nothing without TLS.</summary>
    private string[] TlsArgs(string service)
    {
        if (_certificates is null)
        {
            return [];
        }
        if (!_serverCertificates.TryGetValue(service, out var issued))
        {
            _serverCertificates[service] = issued = _certificates.IssueServer(service);
        }
        return ["--tls-cert", issued.Certificate, "--tls-key", issued.Key];
    }

    /// <summary>A service's environment: <paramref name="variables"/>, and the CA to trust when the network runs TLS.</summary>
    private Dictionary<string, string> Environment(IEnumerable<(string Name, string Value)> variables)
    {
        var environment = variables.ToDictionary(v => v.Name, v => v.Value);
        if (CaPath is { } ca)
        {
            environment[Tls.CaCertificateVariable] = ca;
        }
        return environment;
    }

    /// <summary>Remembers <paramref name="process"/> so that <see cref="DisposeAsync"/> stops it.</summary>
    public ServiceProcess Track(ServiceProcess process)
    {
        _processes.Add(process);
        return process;
    }

    public static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }
        Node?.Dispose();
        CoordinatorKey.Dispose();
        ClientKey.Dispose();
        foreach (var key in MinerKeys)
        {
            key.Dispose();
        }
        _certificates?.Dispose();
        TempDir.Delete(Home);
    }
}
