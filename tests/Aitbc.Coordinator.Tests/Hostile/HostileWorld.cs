using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core.Crypto;
using Aitbc.Testing.Hostile;
using Microsoft.Data.Sqlite;

namespace Aitbc.Coordinator.Tests.Hostile;

/// <summary>Who sends a hostile request: the header and key it carries.</summary>
public enum Who
{
    Nobody,
    ClientA,
    ClientB,
    MinerA,
    MinerB,
    MinerC,
    Admin,
}

/// <summary>
/// A coordinator of its own (genesis coordinator key 2, fresh SQLite, heartbeats and queue timeout far off so nothing
/// moves by itself) with two clients, two staked miners that hold their jobs, and jobs in every state: what hostile
/// requests aim at. <see cref="SnapshotAsync"/> reads every table and the chain accounts involved, so a refused request
/// can be shown to have changed nothing.
/// </summary>
public sealed class HostileWorld : IAsyncDisposable
{
    public const string HeldModel = "hostile-held";
    public const string OtherModel = "hostile-other";
    public const string UnservedModel = "hostile-unserved";

    private readonly CoordinatorFixture _fixture;
    private readonly string _dataDir = TempDir.Create("hostile");
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _disposables = [];

    private HostileWorld(CoordinatorFixture fixture) => _fixture = fixture;

    public RunningCoordinator Coordinator { get; private set; } = null!;

    public Uri Url => Coordinator.Url;

    public TestClient ClientA { get; private set; } = null!;

    public TestClient ClientB { get; private set; } = null!;

    public FakeMiner MinerA { get; private set; } = null!;

    public FakeMiner MinerB { get; private set; } = null!;

    /// <summary>A miner key bound to a public key with no stake and no registration.</summary>
    public Ed25519KeyPair MinerCKey { get; } = Ed25519KeyPair.Generate();

    public string MinerCApiKey { get; private set; } = null!;

    /// <summary>Client A's: pending (no miner serves its model), assigned to miner A, running on miner A, completed, failed, cancelled.</summary>
    public string Pending { get; private set; } = null!;

    public string Assigned { get; private set; } = null!;

    public string Running { get; private set; } = null!;

    public string Completed { get; private set; } = null!;

    public string Failed { get; private set; } = null!;

    public string Cancelled { get; private set; } = null!;

    /// <summary>Client B's job, running on miner B.</summary>
    public string OtherRunning { get; private set; } = null!;

    public JobAssignment AssignedAssignment { get; private set; } = null!;

    public JobAssignment RunningAssignment { get; private set; } = null!;

    public JobAssignment OtherAssignment { get; private set; } = null!;

    /// <summary>The completion that completed <see cref="Completed"/>: sending it again is a replay.</summary>
    public string CompletedBody { get; private set; } = null!;

    /// <summary>The body and Idempotency-Key that made <see cref="Pending"/>.</summary>
    public string PendingBody { get; private set; } = null!;

    public const string PendingIdempotencyKey = "hostile-pending-1";

    public string ReceiptOfCompleted { get; private set; } = null!;

    public IReadOnlyList<string> Jobs => [Pending, Assigned, Running, Completed, Failed, Cancelled, OtherRunning];

    public static async Task<HostileWorld> StartAsync(CoordinatorFixture fixture)
    {
        var world = new HostileWorld(fixture);
        try
        {
            await world.InitializeAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private async Task InitializeAsync()
    {
        Coordinator = await _fixture.StartOwnCoordinatorAsync(o => o with
        {
            HeartbeatInterval = TimeSpan.FromHours(1),
            QueueTimeout = TimeSpan.FromHours(1),
            RateLimitPerSecond = 100_000,
            RateLimitBurst = 100_000,
        }, _dataDir);
        _owned.Add(Coordinator);
        ClientA = await _fixture.ClientAsync(12, "100", Coordinator, _fixture.OwnKey);
        _disposables.Add(ClientA);
        ClientB = await _fixture.ClientAsync(19, "10", Coordinator, _fixture.OwnKey);
        _disposables.Add(ClientB);
        MinerA = await FakeMiner.StartAsync(_fixture, 21, HeldModel, capacity: 8, mode: MinerMode.Hold, coordinator: Coordinator);
        _owned.Add(MinerA);
        MinerB = await FakeMiner.StartAsync(_fixture, 22, OtherModel, capacity: 8, mode: MinerMode.Hold, coordinator: Coordinator);
        _owned.Add(MinerB);
        using (var admin = Coordinator.Http(RunningCoordinator.AdminKey))
        {
            MinerCApiKey = await CoordinatorFixture.CreateKeyAsync(admin, new { role = "miner", miner_pub_key = MinerCKey.PublicKey.Base64 });
        }

        PendingBody = Bodies.Flat(model: UnservedModel, maxPrice: "2");
        Pending = await ClientA.SubmitOkAsync(PendingBody, PendingIdempotencyKey);
        Cancelled = await ClientA.SubmitOkAsync(Bodies.Flat(prompt: "to cancel", model: UnservedModel, maxPrice: "2"));
        using (var cancelled = await ClientA.Http.PostAsync($"v1/jobs/{Cancelled}/cancel", null))
        {
            Assert.Equal(HttpStatusCode.OK, cancelled.StatusCode);
        }

        (Completed, var completedAssignment) = await HeldJobAsync(ClientA, MinerA, HeldModel, "to complete");
        var completion = MinerA.Completion(completedAssignment);
        CompletedBody = JsonSerializer.Serialize(completion, RestJson.Options);
        await ExpectOkAsync(MinerA.StatusAsync(Completed));
        await ExpectOkAsync(MinerA.CompleteAsync(completion));
        ReceiptOfCompleted = (await ClientA.GetJobAsync(Completed, "?wait=10")).GetProperty("receipt_id").GetString()!;

        (Failed, _) = await HeldJobAsync(ClientA, MinerA, HeldModel, "to fail");
        await ExpectOkAsync(MinerA.FailAsync(Failed));

        (Running, RunningAssignment) = await HeldJobAsync(ClientA, MinerA, HeldModel, "running");
        await ExpectOkAsync(MinerA.StatusAsync(Running));
        (Assigned, AssignedAssignment) = await HeldJobAsync(ClientA, MinerA, HeldModel, "assigned");
        (OtherRunning, OtherAssignment) = await HeldJobAsync(ClientB, MinerB, OtherModel, "client b's");
        await ExpectOkAsync(MinerB.StatusAsync(OtherRunning));

        await QuiesceAsync();
    }

    private static async Task<(string JobId, JobAssignment Assignment)> HeldJobAsync(TestClient client, FakeMiner miner, string model, string prompt)
    {
        var jobId = await client.SubmitOkAsync(Bodies.Flat(prompt: prompt, model: model, maxPrice: "2"));
        var assignment = await miner.NextAssignmentAsync(30_000);
        Assert.Equal(jobId, assignment.JobId);
        return (jobId, assignment);
    }

    private static async Task ExpectOkAsync(Task<HttpResponseMessage> call)
    {
        using var response = await call;
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Waits until no outbox row is still on its way to the chain and two snapshots a moment apart agree.</summary>
    public async Task QuiesceAsync()
    {
        await Poll.UntilAsync(async () => await ScalarAsync("SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'sent')") == 0, 30_000);
        Snapshot? last = null;
        await Poll.UntilAsync(async () =>
        {
            var now = await SnapshotAsync(withChain: true);
            var stable = last is not null && now.Equals(last);
            last = now;
            return stable;
        }, 30_000);
    }

    /// <summary>Every row of every table, and the chain accounts and escrows the world's requests could touch.</summary>
    public async Task<Snapshot> SnapshotAsync(bool withChain)
    {
        var text = new StringBuilder();
        await using (var db = Open())
        {
            await db.OpenAsync();
            var tables = new List<string>();
            await using (var list = db.CreateCommand())
            {
                list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
                await using var reader = await list.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    tables.Add(reader.GetString(0));
                }
            }
            foreach (var table in tables)
            {
                await using var select = db.CreateCommand();
                select.CommandText = $"SELECT * FROM \"{table}\" ORDER BY rowid";
                await using var reader = await select.ExecuteReaderAsync();
                text.Append("## ").Append(table).Append('\n');
                while (await reader.ReadAsync())
                {
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        text.Append(reader.GetName(i)).Append('=').Append(reader.IsDBNull(i) ? "NULL" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append(' ');
                    }
                    text.Append('\n');
                }
            }
        }
        var chain = "";
        if (withChain)
        {
            var chainText = new StringBuilder();
            foreach (var address in new[] { ClientA.Address, ClientB.Address, MinerA.Address, MinerB.Address, _fixture.OwnKey.Address })
            {
                var account = await _fixture.Chain.GetAccountAsync(address);
                chainText.Append($"{address} balance={account.Balance} nonce={account.Nonce} stake={account.Stake} allowances=");
                chainText.AppendJoin(",", account.Allowances.OrderBy(a => a.Key.Value, StringComparer.Ordinal).Select(a => $"{a.Key}:{a.Value}")).Append('\n');
            }
            foreach (var job in Jobs)
            {
                chainText.Append(job).Append(' ').Append(JsonSerializer.Serialize(await _fixture.Chain.GetEscrowAsync(job))).Append('\n');
            }
            chain = chainText.ToString();
        }
        return new Snapshot(text.ToString(), chain);
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var db = Open();
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private SqliteConnection Open() => new($"Data Source={Coordinator.Options.DatabasePath};Mode=ReadOnly");

    /// <summary>The header line that carries <paramref name="who"/>'s key, or none.</summary>
    public IReadOnlyList<string> KeyHeader(Who who) => who switch
    {
        Who.Nobody => [],
        Who.ClientA => [$"X-Api-Key: {ClientA.ApiKey}"],
        Who.ClientB => [$"X-Api-Key: {ClientB.ApiKey}"],
        Who.MinerA => [$"X-Miner-Key: {MinerA.ApiKey}"],
        Who.MinerB => [$"X-Miner-Key: {MinerB.ApiKey}"],
        Who.MinerC => [$"X-Miner-Key: {MinerCApiKey}"],
        Who.Admin => [$"X-Api-Key: {RunningCoordinator.AdminKey}"],
        _ => throw new ArgumentOutOfRangeException(nameof(who)),
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
        SqliteConnection.ClearAllPools();
        TempDir.Delete(_dataDir);
    }
}

/// <summary>The coordinator's tables and the chain state around them at one moment.</summary>
public sealed record Snapshot(string Tables, string Chain)
{
    /// <summary>The first line that differs, for a failure message.</summary>
    public string Difference(Snapshot other)
    {
        var mine = (Tables + Chain).Split('\n');
        var theirs = (other.Tables + other.Chain).Split('\n');
        for (var i = 0; i < Math.Max(mine.Length, theirs.Length); i++)
        {
            var a = i < mine.Length ? mine[i] : "(none)";
            var b = i < theirs.Length ? theirs[i] : "(none)";
            if (a != b)
            {
                return $"before: {HostileCase.Shorten(a)} / after: {HostileCase.Shorten(b)}";
            }
        }
        return "(no difference)";
    }
}
