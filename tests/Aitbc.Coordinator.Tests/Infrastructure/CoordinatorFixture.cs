using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Coordinator.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class CoordinatorCollection : ICollectionFixture<CoordinatorFixture>
{
    public const string Name = "node-and-coordinator";
}

[CollectionDefinition(Name)]
public sealed class PostgresCoordinatorCollection : ICollectionFixture<PostgresCoordinatorFixture>
{
    public const string Name = "node-and-coordinator-on-postgresql";
}

/// <summary>
/// One real node and one coordinator (genesis coordinator 0) shared by the collection. Each test takes its own funded
/// wallets by index, so balances never interfere; a test needing its own coordinator takes coordinator key 1 or 2.
/// Its coordinators keep their state in SQLite in their data dir, or, in <see cref="PostgresCoordinatorFixture"/>, in a
/// PostgreSQL database per data dir on a throwaway server.
/// </summary>
public class CoordinatorFixture : IAsyncLifetime
{
    private readonly string _dataDir = TempDir.Create("coordinator");
    private readonly ConcurrentDictionary<string, string> _databases = new(StringComparer.Ordinal);
    private InProcessNode? _node;
    private RunningCoordinator? _coordinator;
    private PostgresServer? _postgres;

    /// <summary>Whether coordinators keep their state in PostgreSQL rather than SQLite.</summary>
    protected virtual bool OnPostgres => false;

    public InProcessNode Node => _node ?? throw new InvalidOperationException("fixture not initialised");

    public RunningCoordinator Coordinator => _coordinator ?? throw new InvalidOperationException("fixture not initialised");

    public NodeClient Chain { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (OnPostgres)
        {
            _postgres = await PostgresServer.StartAsync();
        }
        _node = await InProcessNode.StartAsync("coordinator", fundedWallets: 79, coordinators: 4, fundedMicro: 1_000_000_000);
        Chain = NodeClient.Create(_node.Url, new RetryOptions { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5) });
        _coordinator = await RunningCoordinator.StartAsync(await OptionsForAsync(_node.Coordinators[0], _dataDir));
        Admin = _coordinator.Http(RunningCoordinator.AdminKey);
        var engine = ((CoordinatorStore)_coordinator.Store).Engine;
        if (engine != (OnPostgres ? "postgresql" : "sqlite"))
        {
            throw new InvalidOperationException($"the coordinator runs on {engine}, not the engine this fixture is for");
        }
    }

    /// <summary><see cref="RunningCoordinator.OptionsFor"/> on this fixture's node and database engine.</summary>
    public async Task<CoordinatorOptions> OptionsForAsync(Ed25519KeyPair key, string dataDir, bool sendSettlements = true) =>
        RunningCoordinator.OptionsFor(_node ?? throw new InvalidOperationException("fixture not initialised"), key, dataDir, sendSettlements)
            with
        { Database = await DatabaseForAsync(dataDir) };

    /// <summary>
    /// The database of the coordinator on <paramref name="dataDir"/>: null (SQLite in the dir) or its own PostgreSQL
    /// database, made on first use, so that a coordinator started again on the same dir (a restart) finds its state.
    /// </summary>
    public async Task<string?> DatabaseForAsync(string dataDir)
    {
        if (_postgres is null)
        {
            return null;
        }
        if (_databases.TryGetValue(dataDir, out var existing))
        {
            return existing;
        }
        return _databases.GetOrAdd(dataDir, await _postgres.CreateDatabaseAsync("coordinator"));
    }

    /// <summary>A store on the database of the coordinator on <paramref name="dataDir"/>, as another process would open it.</summary>
    public async Task<CoordinatorStore> OpenStoreAsync(string dataDir) =>
        CoordinatorStore.Create(await DatabaseForAsync(dataDir), Path.Combine(dataDir, "data", "coordinator.db"));

    /// <summary>Runs raw SQL on the shared coordinator's database (SQLite or PostgreSQL), bypassing the store.</summary>
    public async Task<int> ExecuteSqlAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using DbConnection db = _postgres is null
            ? new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Coordinator.Options.DatabasePath}")
            : new Npgsql.NpgsqlConnection(await DatabaseForAsync(_dataDir));
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }
        return await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        Chain?.Dispose();
        if (_coordinator is not null)
        {
            await _coordinator.DisposeAsync();
        }
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
        TempDir.Delete(_dataDir);
    }

    /// <summary>Funded wallet <paramref name="wallet"/> with a client key, having approved <paramref name="coordinator"/> for <paramref name="allowance"/>.</summary>
    public async Task<TestClient> ClientAsync(int wallet, string allowance = "100", RunningCoordinator? coordinator = null, Ed25519KeyPair? coordinatorKey = null)
    {
        coordinator ??= Coordinator;
        coordinatorKey ??= Node.Coordinators[0];
        var key = Node.Funded[wallet];
        if (allowance != "0")
        {
            var sender = await TxSender.CreateAsync(Chain, key);
            var approved = await sender.SendAndCommitAsync(new ApproveBody(coordinatorKey.Address, Amount.ParseAitbc(allowance)));
            Assert.True(approved.IsOk, approved.Log);
        }
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        var apiKey = await CreateKeyAsync(admin, new { role = "client", address = key.Address.Value });
        return new TestClient(key.Address, coordinator.Http(apiKey), apiKey);
    }

    /// <summary>Asks the admin endpoint for a key and returns its text.</summary>
    public static async Task<string> CreateKeyAsync(HttpClient admin, object request)
    {
        using var response = await admin.PostAsJsonAsync("v1/admin/keys", request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("key").GetString()!;
    }

    /// <summary>The key of coordinators a test starts for itself (genesis coordinator 2).</summary>
    public Ed25519KeyPair OwnKey => Node.Coordinators[2];

    /// <summary>
    /// A coordinator of its own (genesis coordinator key 2, <see cref="OwnKey"/>) on a fresh data dir, for tests that need other options (short
    /// heartbeats or queue timeout, a fake clock, a low rate limit). Tests in the collection run one at a time, so the key's
    /// nonces never race.
    /// </summary>
    public async Task<RunningCoordinator> StartOwnCoordinatorAsync(Func<CoordinatorOptions, CoordinatorOptions> configure, string? dataDir = null)
    {
        dataDir ??= TempDir.Create("own-coordinator");
        return await RunningCoordinator.StartAsync(configure(await OptionsForAsync(OwnKey, dataDir)));
    }

    public async Task<Amount> BalanceAsync(Address address) => (await Chain.GetAccountAsync(address)).Balance;

    /// <summary>Waits until the job's escrow is on chain (its block made) and returns it.</summary>
    public async Task<EscrowInfo> EscrowAsync(string jobId, string status = EscrowStatus.Open)
    {
        EscrowInfo? escrow = null;
        await Poll.UntilAsync(async () => (escrow = await Chain.GetEscrowAsync(jobId)) is { } e && e.Status == status);
        return escrow!;
    }
}

/// <summary>The same node and coordinators, keeping their state in PostgreSQL (a throwaway server, a database per coordinator).</summary>
public sealed class PostgresCoordinatorFixture : CoordinatorFixture
{
    protected override bool OnPostgres => true;
}

/// <summary>A client wallet with its API key and an HTTP client that sends it.</summary>
public sealed record TestClient(Address Address, HttpClient Http, string ApiKey) : IDisposable
{
    public Task<HttpResponseMessage> SubmitAsync(string json, string? idempotencyKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return Http.SendAsync(request);
    }

    /// <summary>Submits and expects 201; returns the job id.</summary>
    public async Task<string> SubmitOkAsync(string json, string? idempotencyKey = null)
    {
        using var response = await SubmitAsync(json, idempotencyKey);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("job_id").GetString()!;
    }

    public async Task<JsonElement> GetJobAsync(string jobId, string query = "")
    {
        using var response = await Http.GetAsync($"v1/jobs/{jobId}{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>Request bodies for tests.</summary>
public static class Bodies
{
    public static string Flat(string prompt = "What is machine learning?", string maxPrice = "2", string model = "llama3.2:latest") =>
        JsonSerializer.Serialize(new { type = "inference", prompt, model, options = new { temperature = 0.7, num_predict = 500, seed = 42 }, max_price = maxPrice });
}
