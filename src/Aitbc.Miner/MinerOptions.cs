using Aitbc.Client.Http;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Gpu;

namespace Aitbc.Miner;

/// <summary>Every setting of the miner daemon and its default, in one place; <see cref="Validate"/> fails fast naming the setting.</summary>
public sealed record MinerOptions
{
    public const int DefaultPort = 8010;

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (tests, <c>aitbc up</c>).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Serve HTTPS with this certificate; null serves plain HTTP (loopback, or behind a TLS proxy).</summary>
    public Aitbc.Core.Net.TlsServerSettings? Tls { get; init; }

    /// <summary>Home: config/ (miner key), data/ (outbox.db), logs/.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aitbc", "miner");

    public Uri CoordinatorUrl { get; init; } = new("http://127.0.0.1:8000/");

    /// <summary>The miner API key an admin created for this miner's public key; sent as <c>X-Miner-Key</c>.</summary>
    public string? MinerApiKey { get; init; }

    /// <summary>The URL the coordinator pushes assignments to; default <c>http://{host}:{actual port}/</c>.</summary>
    public Uri? PublicEndpoint { get; init; }

    public Uri NodeUrl { get; init; } = new("http://127.0.0.1:8006/");

    /// <summary>Stake put on chain by <c>register_miner</c> when the chain does not know this miner yet.</summary>
    public Amount Stake { get; init; } = Amount.FromAitbc(100);

    /// <summary>Price per second of compute, in AITBC.</summary>
    public Amount PricePerSecond { get; init; } = new(10_000);

    /// <summary>Jobs run at once; one more is refused with 503.</summary>
    public int Capacity { get; init; } = 1;

    public BackendOptions Backend { get; init; } = new();

    /// <summary>A backend given directly (tests, <c>aitbc up</c>); takes precedence over <see cref="Backend"/>. Not disposed by the host.</summary>
    public IInferenceBackend? BackendInstance { get; init; }

    /// <summary>GPU sampling; <c>nvidia-smi</c> found on PATH when null.</summary>
    public GpuMonitor? Gpu { get; init; }

    /// <summary>How often GPU utilization is sampled while a job runs.</summary>
    public TimeSpan GpuSampleInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Until the coordinator names its own interval at registration.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The miner key given directly (tests, <c>aitbc up</c>); takes precedence over <see cref="MinerKeyPath"/>. Not disposed by the host.</summary>
    public Ed25519KeyPair? MinerKey { get; init; }

    /// <summary>The miner key file (default config/miner_key.json), created with 0600 permissions on first start.</summary>
    public string? MinerKeyPath { get; init; }

    public string? LogDirectory { get; init; }

    public bool LogToConsole { get; init; } = true;

    /// <summary>Sends <c>register_miner</c> with <see cref="Stake"/> when the chain has no record of this miner's key.</summary>
    public bool RegisterOnChain { get; init; } = true;

    /// <summary>First wait after a failed registration (coordinator or chain); doubles, with jitter, up to <see cref="RetryMaxDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First wait before an outbox message is sent again; doubles, with jitter, up to <see cref="OutboxMaxBackoff"/>.</summary>
    public TimeSpan OutboxBaseBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan OutboxMaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest assignment body in bytes; Kestrel refuses larger ones with 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 256 * 1024;

    /// <summary>One attempt at a coordinator call (register, heartbeat, outbox delivery).</summary>
    public TimeSpan CoordinatorAttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The clock for timestamps, deadlines and backoff; tests pass a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public string ConfigDirectory => Path.Combine(DataDirectory, "config");

    public string OutboxPath => Path.Combine(DataDirectory, "data", "outbox.db");

    public string EffectiveMinerKeyPath => MinerKeyPath ?? Path.Combine(ConfigDirectory, "miner_key.json");

    public string EffectiveLogDirectory => LogDirectory ?? Path.Combine(DataDirectory, "logs");

    internal RetryOptions CoordinatorRetry => new() { MaxRetries = 0, AttemptTimeout = CoordinatorAttemptTimeout };

    public MinerOptions Validate()
    {
        Require(!string.IsNullOrWhiteSpace(Host) && System.Net.IPAddress.TryParse(Host, out _), nameof(Host), "must be an IP address");
        Require(Port is >= 0 and <= 65535, nameof(Port), "must be 0 to 65535");
        Require(!string.IsNullOrWhiteSpace(DataDirectory), nameof(DataDirectory), "must be set");
        Require(IsHttp(CoordinatorUrl), nameof(CoordinatorUrl), "must be an http(s) URL");
        Require(IsHttp(NodeUrl), nameof(NodeUrl), "must be an http(s) URL");
        Require(PublicEndpoint is null || IsHttp(PublicEndpoint), nameof(PublicEndpoint), "must be an http(s) URL");
        Require(!string.IsNullOrWhiteSpace(MinerApiKey), nameof(MinerApiKey), "must be set (a coordinator admin creates one for this miner's public key: `aitbc-miner key` prints it)");
        Require(!RegisterOnChain || !Stake.IsZero, nameof(Stake), "must be positive to register on chain");
        Require(!PricePerSecond.IsZero, nameof(PricePerSecond), "must be positive");
        Require(Capacity is >= 1 and <= 1024, nameof(Capacity), "must be 1 to 1024");
        Require(HeartbeatInterval > TimeSpan.Zero, nameof(HeartbeatInterval), "must be positive");
        Require(GpuSampleInterval > TimeSpan.Zero, nameof(GpuSampleInterval), "must be positive");
        Require(RetryBaseDelay > TimeSpan.Zero && RetryMaxDelay >= RetryBaseDelay, nameof(RetryBaseDelay), "must be positive and at most RetryMaxDelay");
        Require(OutboxBaseBackoff > TimeSpan.Zero && OutboxMaxBackoff >= OutboxBaseBackoff, nameof(OutboxBaseBackoff), "must be positive and at most OutboxMaxBackoff");
        Require(MaxRequestBodyBytes is >= 1024 and <= 16 * 1024 * 1024, nameof(MaxRequestBodyBytes), "must be 1 KiB to 16 MiB");
        Require(CoordinatorAttemptTimeout > TimeSpan.Zero, nameof(CoordinatorAttemptTimeout), "must be positive");
        if (BackendInstance is null && Backend.Validate() is { Count: > 0 } errors)
        {
            throw new ArgumentException($"miner option {nameof(Backend)}: {string.Join("; ", errors)}", nameof(Backend));
        }
        return this;
    }

    private static bool IsHttp(Uri url) => url.IsAbsoluteUri && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"miner option {name} {rule}", name);
        }
    }
}
