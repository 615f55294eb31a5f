using System.Collections.Concurrent;
using Aitbc.Client.Node;
using Aitbc.Core;

namespace Aitbc.Faults.Tests;

/// <summary>
/// The network the fault scenarios run against, shared by them: a node whose data directory is a small tmpfs of its own
/// (so a scenario can fill it), a coordinator on SQLite that reaches the node through a <see cref="FlakyProxy"/> (so a
/// scenario can make the node refuse it), and three miners on a fake Ollama with a small fixed latency. Short queue
/// timeout, heartbeats and resend delay, so the deadlines the invariants speak of pass within a scenario.
/// </summary>
public sealed class FaultNetwork : IAsyncLifetime
{
    public const int MinerCount = 3;
    public const string MinerPrice = "0.02";
    public static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    /// <summary>A transaction a killed node dropped from its mempool is sent again after this (30 s in production).</summary>
    public static readonly TimeSpan ResendAfter = TimeSpan.FromSeconds(5);

    /// <summary>Size of the node's tmpfs: room for the scenarios' blocks, small enough to fill in a moment.</summary>
    public const int NodeDiskMegabytes = 64;

    private readonly string _mountPoint = TempDir.Create("faults-nodefs");

    public FaultNetwork()
    {
        Directory.CreateDirectory(_mountPoint);
        Net = new ServiceNetwork("faults", MinerCount, Path.Combine(_mountPoint, "node"));
    }

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
            await StartCoordinatorAsync();
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

    public Task StartCoordinatorAsync() =>
        Net.StartCoordinatorAsync(NodeLink.Url,
            ["--queue-timeout", ServiceNetwork.Seconds(QueueTimeout), "--heartbeat-interval", ServiceNetwork.Seconds(HeartbeatInterval),
             "--resend-after", ServiceNetwork.Seconds(ResendAfter)]);

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
        if (Net.Coordinator.HasExited)
        {
            await StartCoordinatorAsync();
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

    public async Task DisposeAsync()
    {
        if (NodeLink is not null)
        {
            await NodeLink.DisposeAsync();
        }
        await Net.DisposeAsync();
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

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultNetwork>
{
    public const string Name = "fault network";
}
