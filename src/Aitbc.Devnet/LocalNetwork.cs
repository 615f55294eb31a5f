using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aitbc.Chain.Genesis;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Aitbc.Miner;
using Aitbc.Miner.Backends;
using Aitbc.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Devnet;

/// <summary>
/// A complete local network in one process (<c>aitbc up</c>, <c>aitbc demo</c> and the load benchmarks): a validator node with a devnet genesis, the coordinator
/// on SQLite, and N miners. The first start makes the keys, the genesis (funded client and miner wallets, the
/// coordinator named), the API keys and the client's allowance; later starts on the same data directory resume the
/// same chain, jobs and keys.
/// </summary>
public sealed class LocalNetwork : IAsyncDisposable
{
    public const string ChainIdPrefix = "aitbc-devnet";
    private readonly List<IAsyncDisposable> _services = [];

    private LocalNetwork(DevnetOptions options)
    {
        Options = options;
    }

    public DevnetOptions Options { get; }

    public Uri NodeUrl { get; private set; } = null!;

    public Uri CoordinatorUrl { get; private set; } = null!;

    public IReadOnlyList<Uri> MinerUrls => _minerUrls;

    private readonly List<Uri> _minerUrls = [];

    public DevnetState State { get; private set; } = null!;

    /// <summary>The backend the miners run, once resolved from <see cref="DevnetBackend.Auto"/>.</summary>
    public BackendKind Backend { get; private set; }

    /// <summary>The models the miners serve.</summary>
    public IReadOnlyList<string> Models { get; private set; } = [];

    public Ed25519KeyPair ClientKey { get; private set; } = null!;

    public Ed25519PublicKey CoordinatorPublicKey { get; private set; } = null!;

    /// <summary>Whether this start made a new chain (false when it resumed one).</summary>
    public bool Created { get; private set; }

    /// <summary>Starts everything and returns once the miners are registered and staked; <paramref name="log"/> hears each step.</summary>
    public static async Task<LocalNetwork> StartAsync(DevnetOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var devnet = new LocalNetwork(options);
        try
        {
            await devnet.RunStartAsync(log ?? (_ => { }), cancellationToken).ConfigureAwait(false);
            return devnet;
        }
        catch
        {
            await devnet.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task RunStartAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var o = Options;
        Directory.CreateDirectory(o.DataDirectory);
        var coordinatorKey = KeyFile.LoadOrCreate(Path.Combine(o.KeysDirectory, "coordinator_key.json"));
        ClientKey = KeyFile.LoadOrCreate(Path.Combine(o.KeysDirectory, "client_key.json"));
        CoordinatorPublicKey = coordinatorKey.PublicKey;
        var minerKeys = Enumerable.Range(0, o.Miners).Select(i => KeyFile.LoadOrCreate(Path.Combine(o.KeysDirectory, $"miner-{i + 1}_key.json"))).ToList();

        var nodeOptions = new NodeOptions
        {
            DataDirectory = o.NodeDirectory,
            Host = o.Host,
            Port = o.EffectiveNodePort,
            LogToConsole = o.LogToConsole,
            Moniker = "devnet",
        };
        var state = DevnetState.Load(o.StatePath);
        if (!File.Exists(nodeOptions.GenesisPath))
        {
            if (state is not null)
            {
                throw new InvalidOperationException($"{o.StatePath} exists but the node's genesis does not; move {o.DataDirectory} aside to start afresh");
            }
            var chainId = $"{ChainIdPrefix}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}";
            var allocations = new List<GenesisAllocation> { new(ClientKey.Address, o.ClientFunds) };
            allocations.AddRange(minerKeys.Select(k => new GenesisAllocation(k.Address, o.MinerFunds)));
            GenesisInit.Run(nodeOptions, chainId, [coordinatorKey.Address], allocations, o.BlockIntervalMs, maxBlockTxs: 5000);
            state = new DevnetState(chainId, NewSecret("devnet-admin-"), ClientKey.Address.Value, null, [], DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            state.Save(o.StatePath);
            Created = true;
            log($"created chain {chainId} in {o.DataDirectory}");
        }
        else if (state is null)
        {
            throw new InvalidOperationException($"{o.NodeDirectory} holds a chain but {o.StatePath} is missing; move {o.DataDirectory} aside to start afresh");
        }
        else
        {
            log($"resuming chain {state.ChainId} from {o.DataDirectory}");
        }
        State = state;

        // Node.
        var node = await NodeHost.BuildAsync(nodeOptions, cancellationToken).ConfigureAwait(false);
        _services.Add(node);
        await node.StartAsync(cancellationToken).ConfigureAwait(false);
        NodeUrl = ListeningUrl(node);
        log($"node         {NodeUrl}");

        // Coordinator.
        var coordinatorOptions = new CoordinatorOptions
        {
            DataDirectory = o.CoordinatorDirectory,
            Host = o.Host,
            Port = o.EffectiveCoordinatorPort,
            NodeUrl = NodeUrl,
            CoordinatorKey = coordinatorKey,
            AdminKey = state.AdminKey,
            LogToConsole = o.LogToConsole,
            // Development mode: the local miners listen on loopback, which a public coordinator refuses as an endpoint.
            AllowPrivateMinerEndpoints = true,
        };
        if (o.QueueTimeout is { } queueTimeout)
        {
            coordinatorOptions = coordinatorOptions with { QueueTimeout = queueTimeout };
        }
        if (o.RateLimitPerSecond is { } rate)
        {
            coordinatorOptions = coordinatorOptions with { RateLimitPerSecond = rate, RateLimitBurst = 2 * rate };
        }
        var coordinator = CoordinatorHost.Build(coordinatorOptions);
        _services.Add(coordinator);
        await coordinator.StartAsync(cancellationToken).ConfigureAwait(false);
        CoordinatorUrl = ListeningUrl(coordinator);
        log($"coordinator  {CoordinatorUrl}");

        // Keys, allowance and miner funds: what a fresh network needs before its first job.
        using var nodeClient = NodeClient.Create(NodeUrl);
        State = state = await EnsureApiKeysAsync(state, minerKeys, cancellationToken).ConfigureAwait(false);
        state.Save(o.StatePath);
        await EnsureFundsAsync(nodeClient, coordinatorKey.Address, minerKeys, log, cancellationToken).ConfigureAwait(false);

        // Miners.
        var (backend, models) = await ResolveBackendAsync(log, cancellationToken).ConfigureAwait(false);
        Backend = backend.Kind;
        Models = models;
        for (var i = 0; i < minerKeys.Count; i++)
        {
            var minerUrl = await StartMinerAsync(i, minerKeys[i], state.Miners[i].ApiKey, backend, cancellationToken).ConfigureAwait(false);
            _minerUrls.Add(minerUrl);
            log($"miner-{i + 1}      {minerUrl}  {minerKeys[i].Address.Value}  {backend.Kind.ToString().ToLowerInvariant()}");
        }
        WriteEnvFile();
        await WaitForMinersAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The client key and one miner key per miner, made through the coordinator's admin API the first time they are needed.</summary>
    private async Task<DevnetState> EnsureApiKeysAsync(DevnetState state, IReadOnlyList<Ed25519KeyPair> minerKeys, CancellationToken cancellationToken)
    {
        using var admin = CoordinatorClient.Create(CoordinatorUrl, state.AdminKey);
        if (state.ClientApiKey is null)
        {
            var created = await admin.CreateApiKeyAsync(new ApiKeyRequest("client", Address: state.ClientAddress), cancellationToken).ConfigureAwait(false);
            state = state with { ClientApiKey = created.Key };
        }
        var miners = state.Miners.ToList();
        for (var i = miners.Count; i < minerKeys.Count; i++)
        {
            var created = await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: minerKeys[i].PublicKey.Base64), cancellationToken).ConfigureAwait(false);
            miners.Add(new DevnetMiner(i + 1, minerKeys[i].Address.Value, created.Key));
        }
        return state with { Miners = miners };
    }

    /// <summary>The client's allowance to the coordinator, and funds for miners added after genesis (sent from the client wallet).</summary>
    private async Task EnsureFundsAsync(NodeClient node, Address coordinator, IReadOnlyList<Ed25519KeyPair> minerKeys, Action<string> log, CancellationToken cancellationToken)
    {
        var client = await TxSender.CreateAsync(node, ClientKey, cancellationToken).ConfigureAwait(false);
        var account = await node.GetAccountAsync(ClientKey.Address, cancellationToken).ConfigureAwait(false);
        var allowance = account.Allowances.TryGetValue(coordinator, out var a) ? a : Amount.Zero;
        if (allowance < Amount.FromAitbc(1000))
        {
            await Commit(client, new ApproveBody(coordinator, Options.ClientFunds), "approve", cancellationToken).ConfigureAwait(false);
            log($"client {ClientKey.Address.Value} allows the coordinator to escrow up to {Options.ClientFunds.ToAitbcString()} AITBC");
        }
        foreach (var miner in minerKeys)
        {
            var minerAccount = await node.GetAccountAsync(miner.Address, cancellationToken).ConfigureAwait(false);
            if (minerAccount.Balance < Options.MinerStake && minerAccount.Stake.IsZero)
            {
                await Commit(client, new TransferBody(miner.Address, Options.MinerFunds), "transfer", cancellationToken).ConfigureAwait(false);
                log($"funded miner {miner.Address.Value} with {Options.MinerFunds.ToAitbcString()} AITBC from the client wallet");
            }
        }
    }

    private static async Task Commit(TxSender sender, TxBody body, string what, CancellationToken cancellationToken)
    {
        var result = await sender.SendAndCommitAsync(body, cancellationToken).ConfigureAwait(false);
        if (!result.CheckTx.IsOk || !result.TxResult.IsOk)
        {
            throw new InvalidOperationException($"devnet {what} refused by the chain: {result.CheckTx.Log} {result.TxResult.Log}".TrimEnd());
        }
    }

    /// <summary>Auto takes Ollama when it answers (its models then), else the embedded test model.</summary>
    private async Task<(BackendOptions Backend, IReadOnlyList<string> Models)> ResolveBackendAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var o = Options;
        var kind = o.Backend;
        if (kind == DevnetBackend.Auto)
        {
            kind = await OllamaAnswersAsync(o.BackendUrl ?? OllamaBackend.DefaultUrl, cancellationToken).ConfigureAwait(false) ? DevnetBackend.Ollama : DevnetBackend.Embedded;
            log(kind == DevnetBackend.Ollama
                ? $"backend      ollama at {o.BackendUrl ?? OllamaBackend.DefaultUrl}"
                : "backend      embedded llama.cpp (no Ollama answers on 11434)");
        }
        switch (kind)
        {
            case DevnetBackend.Embedded:
                var path = o.ModelPath;
                if (path is null)
                {
                    path = o.TestModelPath;
                    if (!File.Exists(path))
                    {
                        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                        TestModelWriter.Write(path, seed: 1);
                        log($"wrote the test model {path} (tiny llama, random weights: real inference, nonsense text)");
                    }
                }
                return (new BackendOptions { Kind = BackendKind.Embedded, ModelPath = path, ModelName = o.EmbeddedModelName, Threads = 1 }, [o.EmbeddedModelName]);
            case DevnetBackend.Ollama:
                return (new BackendOptions { Kind = BackendKind.Ollama, Url = o.BackendUrl }, []);
            default:
                return (new BackendOptions { Kind = BackendKind.OpenAi, Url = o.BackendUrl ?? throw new ArgumentException("--backend openai needs --backend-url") }, []);
        }
    }

    private static async Task<bool> OllamaAnswersAsync(Uri url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        try
        {
            using var response = await http.GetAsync(new Uri(url, "api/tags"), cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private async Task<Uri> StartMinerAsync(int index, Ed25519KeyPair key, string apiKey, BackendOptions backend, CancellationToken cancellationToken)
    {
        var o = Options;
        var minerOptions = new MinerOptions
        {
            DataDirectory = o.MinerDirectory(index),
            Host = o.Host,
            Port = o.EffectiveMinerPort(index),
            CoordinatorUrl = CoordinatorUrl,
            NodeUrl = NodeUrl,
            MinerApiKey = apiKey,
            MinerKey = key,
            Stake = o.MinerStake,
            PricePerSecond = o.MinerPricePerSecond,
            Capacity = o.MinerCapacity,
            Backend = backend,
            LogToConsole = o.LogToConsole,
        };
        var miner = await MinerHost.BuildAsync(minerOptions, cancellationToken).ConfigureAwait(false);
        _services.Add(miner);
        await miner.StartAsync(cancellationToken).ConfigureAwait(false);
        return miner.Url;
    }

    /// <summary>Waits until the coordinator lists every miner online with its stake on chain, so the first job finds one.</summary>
    private async Task WaitForMinersAsync(CancellationToken cancellationToken)
    {
        if (Options.Miners == 0)
        {
            return;
        }
        using var client = CoordinatorClient.Create(CoordinatorUrl, State.ClientApiKey);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            try
            {
                var miners = await client.GetMarketMinersAsync(timeout.Token).ConfigureAwait(false);
                if (miners.Miners.Count(m => m.Online && Amount.TryParseAitbc(m.Stake, out var s) && !s.IsZero) >= Options.Miners)
                {
                    return;
                }
            }
            catch (RestClientException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the miners did not come online within 60 s; see the logs under {Options.DataDirectory}");
            }
            await Task.Delay(100, timeout.Token).ConfigureAwait(false);
        }
    }

    /// <summary><c>devnet.env</c>: <c>source</c> it and every CLI command talks to this network.</summary>
    private void WriteEnvFile()
    {
        var lines = new StringBuilder();
        lines.AppendLine("# AITBC devnet: source this file, then run aitbc commands (or ./scripts/aitbc-cli.sh).");
        lines.AppendLine($"export AITBC_URL={Strip(CoordinatorUrl)}");
        lines.AppendLine($"export AITBC_NODE_URL={Strip(NodeUrl)}");
        lines.AppendLine($"export CLIENT_API_KEY={State.ClientApiKey}");
        lines.AppendLine($"export MINER_API_KEY={(State.Miners.Count > 0 ? State.Miners[0].ApiKey : "")}");
        lines.AppendLine($"export ADMIN_API_KEY={State.AdminKey}");
        lines.AppendLine($"export AITBC_ADMIN_KEY={State.AdminKey}");
        lines.AppendLine($"export CLIENT_ADDRESS={State.ClientAddress}");
        lines.AppendLine($"export AITBC_COORDINATOR_PUB_KEY={CoordinatorPublicKey.Base64}");
        SecretFile.Write(Options.EnvPath, Encoding.UTF8.GetBytes(lines.ToString()));
    }

    internal static string Strip(Uri url) => url.AbsoluteUri.TrimEnd('/');

    private static Uri ListeningUrl(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/");

    private static string NewSecret(string prefix) => prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Stops miners first (no new results), then the coordinator (its outbox flushed as far as it got), then the node.</summary>
    public async ValueTask DisposeAsync()
    {
        for (var i = _services.Count - 1; i >= 0; i--)
        {
            try
            {
                if (_services[i] is WebApplication app)
                {
                    using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await app.StopAsync(stop.Token).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
            }
            await _services[i].DisposeAsync().ConfigureAwait(false);
        }
        _services.Clear();
    }
}
