using System.Collections.Concurrent;
using Aitbc.Client.Node;
using Aitbc.Core;

namespace Aitbc.Faults.Tests;

/// <summary>
/// The network the fault scenarios run against, shared by them: a node whose data directory is a small tmpfs of its own
/// (so a scenario can fill it), a coordinator on SQLite that reaches the node through a <see cref="FlakyProxy"/> (so a
/// scenario can make the node refuse it), and three miners on a fake Ollama with a small fixed latency. Short queue
/// timeout, heartbeats and resend delay, so the deadlines the invariants speak of pass within a scenario. As a cluster
/// (<see cref="ClusterFaultNetwork"/>) it runs <see cref="ClusterSize"/> coordinator processes with one key on one
/// PostgreSQL database instead, each client of the load talking to its own.
/// </summary>
public class FaultNetwork : IAsyncLifetime
{
    public const int ClusterSize = 3;

    public const int MinerCount = 3;
    public const string MinerPrice = "0.02";
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>A transaction a killed node dropped from its mempool is sent again after this (30 s in production).</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(5);

    /// <summary>Size of the node's tmpfs: room for the scenarios' blocks, small enough to fill in a moment.</summary>
    public const int NodeDiskMegabytes = 64;

    private readonly string _mountPoint = TempDir.Create("faults-nodefs");

    private readonly bool _cluster;
    private PostgresServer? _postgres;
    private string? _database;

    public FaultNetwork()
        : this(cluster: false)
    {
    }

    protected FaultNetwork(bool cluster)
    {
        _cluster = cluster;
        Directory.CreateDirectory(_mountPoint);
        Net = new ServiceNetwork(cluster ? "cluster-faults" : "faults", MinerCount, Path.Combine(_mountPoint, "node"));
        Coordinators = new (ServiceProcess, Uri)[cluster ? ClusterSize : 1];
    }

    /// <summary>The cluster's PostgreSQL database (a connection string), or null for a coordinator on SQLite.</summary>
    public string? Database => _database;

    /// <summary>The coordinator processes (one, or a cluster's) and their URLs; the first is <see cref="ServiceNetwork.Coordinator"/>.</summary>
    public (ServiceProcess Process, Uri Url)[] Coordinators { get; }

    /// <summary>The client's API at the coordinator client <paramref name="client"/> of the load talks to.</summary>
    public Client.Coordinator.CoordinatorClient ClientApi(int client) => Net.ClientApi(Coordinators[client % Coordinators.Length].Url);

    public ServiceNetwork Net { get; }

    public NodeClient Node => Net.Node;

    public FakeOllama Ollama { get; private set; } = null!;

    /// <summary>The coordinator's link to the node.</summary>
    public FlakyProxy NodeLink { get; private set; } = null!;

    public ServiceProcess[] Miners { get; } = new ServiceProcess[MinerCount];

    /// <summary>Whether the node's data directory is its own tmpfs (else a plain directory: disk-full is simulated).</summary>
    public bool NodeDiskMounted { get; private set; }

    /// <summary>Every job id the load drivers saw accepted, over all scenarios: the coordinator must hold no other.</summary>
    public ConcurrentDictionary<string, bool> AcceptedEver { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        try
        {
            NodeDiskMounted = await MountAsync();
            await Net.InitChainAsync("aitbc-faults");
            await Net.StartNodeAsync();
            NodeLink = new FlakyProxy(Net.NodeUrl, refuse: 0);
            if (_cluster)
            {
                _postgres = await PostgresServer.StartAsync();
                _database = await _postgres.CreateDatabaseAsync("cluster");
            }
            for (var i = 0; i < Coordinators.Length; i++)
            {
                await StartCoordinatorAsync(i);
            }
            await Net.CreateApiKeysAsync();
            await Net.ApproveAsync(Amount.FromAitbc(100_000));
            Ollama = await NetworkOllama.StartAsync();
            for (var i = 0; i < MinerCount; i++)
            {
                await StartMinerAsync(i);
            }
            await Net.WaitForMinersAsync(MinerCount);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public Task StartCoordinatorAsync() => StartCoordinatorAsync(0);

    /// <summary>Starts coordinator process <paramref name="index"/> (again, on its port and data, after a kill).</summary>
    public async Task StartCoordinatorAsync(int index)
    {
        string[] args = ["--queue-timeout", ServiceNetwork.Seconds(QueueTimeout), "--heartbeat-interval", ServiceNetwork.Seconds(HeartbeatInterval),
            "--resend-after", ServiceNetwork.Seconds(ResendAfter), .. _database is null ? Array.Empty<string>() : ["--database", _database]];
        if (index == 0)
        {
            await Net.StartCoordinatorAsync(NodeLink.Url, args);
            Coordinators[0] = (Net.Coordinator, Net.CoordinatorUrl);
        }
        else
        {
            Coordinators[index] = await Net.StartCoordinatorAsync(index, NodeLink.Url, args);
        }
    }

    public async Task StartMinerAsync(int index) =>
        Miners[index] = await Net.StartMinerAsync(index,
            ["--stake", "1000", "--price", MinerPrice, "--capacity", "2", "--backend", "ollama", "--backend-url", Ollama.Url.AbsoluteUri]);

    /// <summary>Every miner's outbox database.</summary>
    public IEnumerable<string> MinerOutboxes() =>
        Enumerable.Range(0, MinerCount).Select(i => Path.Combine(Net.MinerDirectory(i), "data", "outbox.db"));

    /// <summary>Where a scenario may put a filler file to fill the node's disk.</summary>
    public string NodeDiskRoot => _mountPoint;

    /// <summary>Brings back whatever a failed scenario left down, so the next one starts from a whole network.</summary>
    public async Task HealAsync()
    {
        NodeLink.Restore();
        Ollama.GateOf(NetworkOllama.QuickModel).Open();
        if (Net.NodeProcess.HasExited)
        {
            await Net.StartNodeAsync();
        }
        for (var i = 0; i < Coordinators.Length; i++)
        {
            if (Coordinators[i].Process.HasExited)
            {
                await StartCoordinatorAsync(i);
            }
        }
        for (var i = 0; i < MinerCount; i++)
        {
            if (Miners[i].HasExited)
            {
                await StartMinerAsync(i);
            }
        }
        await Net.WaitForMinersAsync(MinerCount);
    }

    /// <summary>A tmpfs of <see cref="NodeDiskMegabytes"/> on the node's data directory; false where mounting is not permitted.</summary>
    private async Task<bool> MountAsync()
    {
        try
        {
            var mount = await ServiceProcess.RunFileAsync("mount", ["-t", "tmpfs", "-o", $"size={NodeDiskMegabytes}m", "tmpfs", _mountPoint]);
            return mount.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (NodeLink is not null)
        {
            await NodeLink.DisposeAsync();
        }
        await Net.DisposeAsync();
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        if (Ollama is not null)
        {
            await Ollama.DisposeAsync();
        }
        if (NodeDiskMounted)
        {
            await ServiceProcess.RunFileAsync("umount", ["-l", _mountPoint]);
        }
        TempDir.Delete(_mountPoint);
    }
}

/// <summary>The fault network as a coordinator cluster: <see cref="FaultNetwork.ClusterSize"/> processes, one key, one PostgreSQL database.</summary>
public sealed class ClusterFaultNetwork() : FaultNetwork(cluster: true);

[CollectionDefinition(Name)]
public sealed class ClusterFaultCollection : ICollectionFixture<ClusterFaultNetwork>
{
    public const string Name = "cluster fault network";
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultNetwork>
{
    public const string Name = "fault network";
}
