using Aitbc.Core;

namespace Aitbc.Devnet;

/// <summary>Every setting of <c>aitbc up</c> and <c>aitbc demo</c> and its default, in one place.</summary>
public sealed record DevnetOptions
{
    public const int DefaultPortBase = 8000;

    public string DataDirectory { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aitbc", "devnet");

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The coordinator listens on the base, the node on base + 6, miner i on base + 10 + i (the seed's 8000, 8006, 8010); 0 picks free ports.</summary>
    public int PortBase { get; init; } = DefaultPortBase;

    public int? CoordinatorPort { get; init; }

    public int? NodePort { get; init; }

    /// <summary>The first miner's port; the others follow it.</summary>
    public int? MinerPort { get; init; }

    public DevnetBackend Backend { get; init; } = DevnetBackend.Auto;

    /// <summary>The Ollama or OpenAI-compatible server; Ollama's default when null.</summary>
    public Uri? BackendUrl { get; init; }

    public int Miners { get; init; } = 1;

    /// <summary>
    /// The name the embedded miners serve the generated test model under. The seed's model by default, so the seed's
    /// commands work as written; the model itself is a tiny random-weight llama that writes nonsense, fast.
    /// </summary>
    public string EmbeddedModelName { get; init; } = "llama3.2:latest";

    /// <summary>A GGUF file for the embedded backend; the generated test model when null.</summary>
    public string? ModelPath { get; init; }

    /// <summary>What each miner stakes on start, and the price it asks per compute-second.</summary>
    public Amount MinerStake { get; init; } = Amount.FromAitbc(1000);

    public Amount MinerPricePerSecond { get; init; } = new(50_000);

    public int MinerCapacity { get; init; } = 4;

    /// <summary>The client wallet's genesis balance and the allowance it gives the coordinator.</summary>
    public Amount ClientFunds { get; init; } = Amount.FromAitbc(1_000_000);

    public Amount MinerFunds { get; init; } = Amount.FromAitbc(10_000);

    public int BlockIntervalMs { get; init; } = 200;

    /// <summary>How long a job waits for a miner before it fails with "no miner available"; the coordinator's default when null.</summary>
    public TimeSpan? QueueTimeout { get; init; }

    /// <summary>The coordinator's per-key request rate (burst twice that); its default when null. Load tests raise it.</summary>
    public int? RateLimitPerSecond { get; init; }

    /// <summary>Services also log to the console (they always log to files under the data directory).</summary>
    public bool LogToConsole { get; init; }

    public string NodeDirectory => Path.Combine(DataDirectory, "node");

    public string CoordinatorDirectory => Path.Combine(DataDirectory, "coordinator");

    public string MinerDirectory(int index) => Path.Combine(DataDirectory, $"miner-{index + 1}");

    public string KeysDirectory => Path.Combine(DataDirectory, "keys");

    public string StatePath => Path.Combine(DataDirectory, "devnet.json");

    public string EnvPath => Path.Combine(DataDirectory, "devnet.env");

    public string TestModelPath => Path.Combine(DataDirectory, "models", "aitbc-test-tiny.gguf");

    public int EffectiveCoordinatorPort => CoordinatorPort ?? Offset(0);

    public int EffectiveNodePort => NodePort ?? Offset(6);

    public int EffectiveMinerPort(int index) => MinerPort is { } first ? first == 0 ? 0 : first + index : Offset(10 + index);

    private int Offset(int offset) => PortBase == 0 ? 0 : PortBase + offset;

    public DevnetOptions Validate()
    {
        Require(!string.IsNullOrWhiteSpace(DataDirectory), "--data-dir must be set");
        Require(PortBase == 0 || PortBase is >= 1024 and <= 65000, "--port-base must be 0 (free ports) or 1024 to 65000");
        Require(Miners is >= 0 and <= 32, "--miners must be 0 to 32");
        Require(new[] { CoordinatorPort, NodePort, MinerPort }.All(p => p is null or (>= 0 and <= 65535)), "ports must be 0 to 65535");
        Require(!string.IsNullOrWhiteSpace(EmbeddedModelName), "the embedded model name must be set");
        Require(!MinerStake.IsZero && MinerStake < MinerFunds, "the miner stake must be positive and below the miner's funds");
        Require(!MinerPricePerSecond.IsZero, "the miner price must be positive");
        Require(MinerCapacity is >= 1 and <= 256, "the miner capacity must be 1 to 256");
        Require(BlockIntervalMs is >= 10 and <= 60_000, "the block interval must be 10 ms to 60 s");
        return this;
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
