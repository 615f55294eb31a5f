using Aitbc.Client.Http;
using Aitbc.Core;
using Aitbc.Core.Crypto;

namespace Aitbc.Coordinator;

/// <summary>Every setting of the coordinator and its default, in one place; <see cref="Validate"/> fails fast naming the setting.</summary>
public sealed record CoordinatorOptions
{
    public const int DefaultPort = 8000;

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>Serve HTTPS with this certificate; null serves plain HTTP (loopback, or behind a TLS proxy).</summary>
    public Aitbc.Core.Net.TlsServerSettings? Tls { get; init; }

    /// <summary>Home: config/ (coordinator key), data/ (coordinator.db), logs/.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aitbc", "coordinator");

    /// <summary>
    /// A PostgreSQL connection string (<c>Host=…;Database=…;Username=…</c> or <c>postgres://user@host/db</c>) to keep the
    /// coordinator's state there; null keeps it in SQLite at <see cref="DatabasePath"/>.
    /// </summary>
    public string? Database { get; init; }

    public Uri NodeUrl { get; init; } = new("http://127.0.0.1:8006/");

    /// <summary>The key named in genesis as a coordinator; created on first start when missing (default config/coordinator_key.json).</summary>
    public string? CoordinatorKeyPath { get; init; }

    /// <summary>A key given directly (tests, <c>aitbc up</c>); takes precedence over <see cref="CoordinatorKeyPath"/>. Not disposed by the host.</summary>
    public Ed25519KeyPair? CoordinatorKey { get; init; }

    /// <summary>Bootstrap admin API key: stored (hashed) at start so an operator can create the first client and miner keys.</summary>
    public string? AdminKey { get; init; }

    public string? LogDirectory { get; init; }

    public bool LogToConsole { get; init; } = true;

    /// <summary>Kestrel refuses larger bodies with 413 before the handler reads them.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64 * 1024;

    /// <summary>Largest prompt in UTF-8 bytes.</summary>
    public int MaxPromptBytes { get; init; } = 32 * 1024;

    /// <summary>Budget moved to escrow when a job names no max_price.</summary>
    public Amount DefaultMaxPrice { get; init; } = Amount.FromAitbc(1);

    /// <summary>Highest max_price a job may name, so a typo cannot lock a fortune in escrow.</summary>
    public Amount MaxPriceCap { get; init; } = Amount.FromAitbc(1000);

    public int DefaultTtlSeconds { get; init; } = 600;

    public int MaxTtlSeconds { get; init; } = 86_400;

    /// <summary>Longest <c>?wait=</c> a GET may hold.</summary>
    public int MaxWaitSeconds { get; init; } = 60;

    /// <summary>Most <c>GET /v1/jobs/{id}?wait=</c> one API key may hold open at once; one more is answered 429 at once.</summary>
    public int MaxLongPollsPerKey { get; init; } = 32;

    /// <summary>
    /// Development mode (<c>aitbc-coordinator start --dev</c>, <c>aitbc up</c>): accept miner endpoints on loopback, private,
    /// link-local and other non-public addresses. Off, such endpoints are refused at registration and never connected to,
    /// so a miner key cannot make the coordinator POST into the network it runs in.
    /// </summary>
    public bool AllowPrivateMinerEndpoints { get; init; }

    /// <summary>
    /// Whether the chain writer sends settlements (refunds, receipts); tests turn it off to leave settlements unsent, as a
    /// crash would, while new jobs are still escrowed and their escrows followed to their block.
    /// </summary>
    public bool SendSettlements { get; init; } = true;

    /// <summary>
    /// Coordinators sharing a PostgreSQL database: how often one that is not the chain writer tries to take the role, and
    /// how often the writer checks the connection that holds it (so a dead writer is replaced within about this long).
    /// </summary>
    public TimeSpan WriterRetryInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a submission waits for the chain writer's decision on its escrow before it answers 503 (retry with the same Idempotency-Key).</summary>
    public TimeSpan SubmitDecisionTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the chain writer looks for due outbox rows and for commits of sent ones when nothing wakes it.</summary>
    public TimeSpan OutboxPollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan OutboxBaseBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan OutboxMaxBackoff { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A sent transaction not committed after this long is broadcast again (a node restart may have lost its mempool).</summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often miners should heartbeat (told to them at registration); a miner silent for 3 of these is offline.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A pending job no miner took within this long fails with "no miner available" and is refunded.</summary>
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// What a miner is owed for any job before it can be blamed for missing its deadline: a deadline the client set
    /// shorter than this plus <see cref="FairTokensPerSecond"/> for the job's size costs the miner no reputation.
    /// </summary>
    public TimeSpan FairJobBase { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The slowest generation (tokens per second) a miner is held to when a job's deadline is judged fair or not.</summary>
    public double FairTokensPerSecond { get; init; } = 10;

    /// <summary>Runs the scheduler; tests may turn it off to hold jobs pending.</summary>
    public bool RunScheduler { get; init; } = true;

    /// <summary>How often the scheduler looks at the queue and sweeps deadlines when nothing wakes it.</summary>
    public TimeSpan SchedulerPollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one <c>POST /v1/jobs/assign</c> to a miner may take before the next miner is tried.</summary>
    public TimeSpan AssignTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A miner that refused (or could not be reached for) a job is not offered that job again for this long.</summary>
    public TimeSpan RefusalMemory { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a miner's stake read from the chain is trusted.</summary>
    public TimeSpan StakeCacheTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long an API key row read from the database is trusted (<see cref="Auth.ApiKeyCache"/>): a key revoked by another
    /// coordinator on the same database stops working here within this; zero reads the row on every request.
    /// </summary>
    public TimeSpan ApiKeyCacheTtl { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Most API key rows held in memory at once (and most keys with a rate-limit bucket of their own); lookups beyond it read the database.</summary>
    public int ApiKeyCacheCapacity { get; init; } = 10_000;

    /// <summary>
    /// How long a key id with no row is remembered as unknown, so that repeating it reads no database row; a key another
    /// coordinator on the same database creates with that very id works here after at most this long.
    /// </summary>
    public TimeSpan UnknownKeyCacheTtl { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most unknown key ids remembered at once.</summary>
    public int UnknownKeyCacheCapacity { get; init; } = 10_000;

    /// <summary>Highest price per second a miner may ask.</summary>
    public Amount MaxPricePerSecond { get; init; } = Amount.FromAitbc(100);

    /// <summary>Largest result a miner may deliver, in UTF-8 bytes.</summary>
    public int MaxResultBytes { get; init; } = 48 * 1024;

    /// <summary>
    /// Token bucket per authenticated API key, and one per remote address for requests without a key that authenticated:
    /// sustained requests per second, and the burst allowed on top.
    /// </summary>
    public int RateLimitPerSecond { get; init; } = 2000;

    public int RateLimitBurst { get; init; } = 4000;

    public RetryOptions NodeRetry { get; init; } = new() { MaxRetries = 2, AttemptTimeout = TimeSpan.FromSeconds(10) };

    /// <summary>The clock for timestamps, deadlines and backoff; tests pass a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    public string ConfigDirectory => Path.Combine(DataDirectory, "config");

    public string DatabasePath => Path.Combine(DataDirectory, "data", "coordinator.db");

    public string EffectiveCoordinatorKeyPath => CoordinatorKeyPath ?? Path.Combine(ConfigDirectory, "coordinator_key.json");

    public string EffectiveLogDirectory => LogDirectory ?? Path.Combine(DataDirectory, "logs");

    public CoordinatorOptions Validate()
    {
        Require(Port is >= 0 and <= 65535, nameof(Port), "must be 0 to 65535");
        Require(!string.IsNullOrWhiteSpace(DataDirectory), nameof(DataDirectory), "must be set");
        Require(string.IsNullOrWhiteSpace(Database) || Storage.DatabaseSettings.IsPostgres(Database), nameof(Database),
            "must be a PostgreSQL connection string (Host=…;Database=…;Username=… or postgres://user@host/db), or unset for SQLite");
        Require(NodeUrl.IsAbsoluteUri && (NodeUrl.Scheme == Uri.UriSchemeHttp || NodeUrl.Scheme == Uri.UriSchemeHttps), nameof(NodeUrl), "must be an http(s) URL");
        Require(MaxRequestBodyBytes is >= 1024 and <= 16 * 1024 * 1024, nameof(MaxRequestBodyBytes), "must be 1 KiB to 16 MiB");
        Require(MaxPromptBytes > 0 && MaxPromptBytes < MaxRequestBodyBytes, nameof(MaxPromptBytes), "must be positive and below MaxRequestBodyBytes");
        Require(!DefaultMaxPrice.IsZero && DefaultMaxPrice <= MaxPriceCap, nameof(DefaultMaxPrice), "must be positive and at most MaxPriceCap");
        Require(DefaultTtlSeconds > 0 && DefaultTtlSeconds <= MaxTtlSeconds, nameof(DefaultTtlSeconds), "must be positive and at most MaxTtlSeconds");
        Require(MaxWaitSeconds is >= 0 and <= 600, nameof(MaxWaitSeconds), "must be 0 to 600");
        Require(OutboxPollInterval > TimeSpan.Zero, nameof(OutboxPollInterval), "must be positive");
        Require(OutboxBaseBackoff > TimeSpan.Zero && OutboxMaxBackoff >= OutboxBaseBackoff, nameof(OutboxBaseBackoff), "must be positive and at most OutboxMaxBackoff");
        Require(AdminKey is null || AdminKey.Length >= 16, nameof(AdminKey), "must be at least 16 characters");
        Require(ResendAfter > TimeSpan.Zero, nameof(ResendAfter), "must be positive");
        Require(WriterRetryInterval > TimeSpan.Zero, nameof(WriterRetryInterval), "must be positive");
        Require(SubmitDecisionTimeout > TimeSpan.Zero, nameof(SubmitDecisionTimeout), "must be positive");
        Require(HeartbeatInterval > TimeSpan.Zero, nameof(HeartbeatInterval), "must be positive");
        Require(QueueTimeout > TimeSpan.Zero, nameof(QueueTimeout), "must be positive");
        Require(FairJobBase >= TimeSpan.Zero, nameof(FairJobBase), "must not be negative");
        Require(FairTokensPerSecond > 0, nameof(FairTokensPerSecond), "must be positive");
        Require(SchedulerPollInterval > TimeSpan.Zero, nameof(SchedulerPollInterval), "must be positive");
        Require(AssignTimeout > TimeSpan.Zero, nameof(AssignTimeout), "must be positive");
        Require(!MaxPricePerSecond.IsZero, nameof(MaxPricePerSecond), "must be positive");
        Require(MaxResultBytes > 0 && MaxResultBytes < MaxRequestBodyBytes, nameof(MaxResultBytes), "must be positive and below MaxRequestBodyBytes");
        Require(RateLimitPerSecond > 0 && RateLimitBurst >= RateLimitPerSecond, nameof(RateLimitPerSecond), "must be positive and at most RateLimitBurst");
        Require(ApiKeyCacheTtl >= TimeSpan.Zero && ApiKeyCacheTtl <= TimeSpan.FromMinutes(1), nameof(ApiKeyCacheTtl), "must be 0 to 60 s");
        Require(ApiKeyCacheCapacity > 0, nameof(ApiKeyCacheCapacity), "must be positive");
        Require(UnknownKeyCacheTtl >= TimeSpan.Zero && UnknownKeyCacheTtl <= TimeSpan.FromMinutes(1), nameof(UnknownKeyCacheTtl), "must be 0 to 60 s");
        Require(UnknownKeyCacheCapacity > 0, nameof(UnknownKeyCacheCapacity), "must be positive");
        Require(MaxLongPollsPerKey > 0, nameof(MaxLongPollsPerKey), "must be positive");
        NodeRetry.Validate();
        return this;
    }

    private static void Require(bool condition, string name, string rule)
    {
        if (!condition)
        {
            throw new ArgumentException($"coordinator option {name} {rule}", name);
        }
    }
}
