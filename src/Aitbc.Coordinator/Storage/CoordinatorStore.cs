using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>
/// <see cref="ICoordinatorStore"/> over ADO.NET, one implementation for SQLite and PostgreSQL: the same SQL on both, with
/// what differs (connections, the auto-numbered key, skipping locked rows, migration locking) in a <see cref="SqlDialect"/>.
/// A connection per call (both providers pool them). Every state change is a conditional UPDATE whose WHERE names the
/// state it leaves, so racing callers (in one process or, on PostgreSQL, in several) cannot both make one transition.
/// </summary>
public abstract class CoordinatorStore : ICoordinatorStore, IAsyncDisposable
{
    private const string JobColumns = "id, client_address, key_id, status, model, prompt, options_json, max_price, payload_hash, idempotency_key, request_hash, "
        + "submitted_at, started_at, completed_at, deadline_at, result, error, receipt_id, cost";

    private const string JobSelectColumns = JobColumns + ", miner, assigned_at, price_per_second";

    private const string MinerColumns = "address, pub_key, key_id, endpoint, models_json, capacity, in_flight, price_per_second, gpu_json, gpu_utilization, "
        + "registered_at, last_seen, reputation, jobs_completed, jobs_failed, jobs_timed_out";

    private const string ReceiptSelect = "SELECT r.id, r.job_id, r.miner, r.client, r.receipt_json, r.completion_hash, r.issued_at, o.tx_hash, o.height FROM receipts r "
        + "LEFT JOIN outbox o ON o.job_id = r.job_id AND o.kind = 'record_receipt' AND o.status = 'committed' AND o.height IS NOT NULL";

    private const string OutboxColumns = "id, job_id, kind, body_json, status, attempts, last_error, nonce, tx_bytes, tx_hash, height, created_at, not_before, sent_at";

    private readonly SqlDialect _dialect;

    private protected CoordinatorStore(SqlDialect dialect) => _dialect = dialect;

    /// <summary>The engine this store runs on: <c>sqlite</c> or <c>postgresql</c>.</summary>
    public string Engine => _dialect.Name;

    /// <summary>
    /// The store <paramref name="database"/> names: PostgreSQL for a PostgreSQL connection string (<c>Host=…</c> or a
    /// <c>postgres://</c> URL), else SQLite at <paramref name="sqlitePath"/> when <paramref name="database"/> is empty.
    /// </summary>
    public static CoordinatorStore Create(string? database, string sqlitePath) =>
        string.IsNullOrWhiteSpace(database) ? new SqliteCoordinatorStore(sqlitePath)
        : DatabaseSettings.IsPostgres(database) ? new PostgresCoordinatorStore(database)
        : throw new ArgumentException("database must be a PostgreSQL connection string (Host=…;Database=…;Username=… or postgres://user@host/db); leave it unset for SQLite in the data directory", nameof(database));

    public ValueTask DisposeAsync() => _dialect.DisposeAsync();

    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await _dialect.BeginMigrationAsync(connection, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, null, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);", cancellationToken).ConfigureAwait(false);
            foreach (var (version, name, sql) in Migrations.Steps)
            {
                await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                var applied = await ScalarAsync(connection, tx, "SELECT COUNT(*) FROM schema_migrations WHERE version = @v", cancellationToken, ("@v", version)).ConfigureAwait(false);
                if (Convert.ToInt64(applied, System.Globalization.CultureInfo.InvariantCulture) == 0)
                {
                    await ExecuteAsync(connection, tx, _dialect.Schema(sql), cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (@v, @n, @t)", cancellationToken,
                        ("@v", version), ("@n", name), ("@t", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())).ConfigureAwait(false);
                }
                await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await _dialect.EndMigrationAsync(connection, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ScalarAsync(connection, null, "SELECT 1", cancellationToken).ConfigureAwait(false);
    }

    public async Task InsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "INSERT INTO api_keys (id, role, key_hash, address, miner_pub_key, created_at) VALUES (@id, @role, @hash, @address, @pub, @created)",
            cancellationToken, KeyParameters(key)).ConfigureAwait(false);
    }

    public async Task UpsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "INSERT INTO api_keys (id, role, key_hash, address, miner_pub_key, created_at) VALUES (@id, @role, @hash, @address, @pub, @created) "
            + "ON CONFLICT (id) DO UPDATE SET role = excluded.role, key_hash = excluded.key_hash, address = excluded.address, miner_pub_key = excluded.miner_pub_key",
            cancellationToken, KeyParameters(key)).ConfigureAwait(false);
    }

    public async Task<ApiKeyRecord?> GetApiKeyAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT id, role, key_hash, address, miner_pub_key, created_at FROM api_keys WHERE id = @id", ("@id", id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? new ApiKeyRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), NullableString(reader, 3), NullableString(reader, 4), reader.GetInt64(5))
            : null;
    }

    public async Task<bool> RevokeApiKeyAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // An empty hash: ApiKeys.Matches accepts only 64 hex digits, so no key text hashes to it.
        return await ExecuteAsync(connection, null, "UPDATE api_keys SET key_hash = '' WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false) == 1;
    }

    public async Task<JobRecord?> GetJobAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<JobRecord?> FindJobByIdempotencyKeyAsync(string keyId, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE key_id = @k AND idempotency_key = @i", cancellationToken,
            ("@k", keyId), ("@i", idempotencyKey)).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<JobRecord>> ListJobsAsync(string clientAddress, JobCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Row-value comparison (both engines) walks ix_jobs_client backwards from the cursor: no offset scans.
        return after is null
            ? await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE client_address = @a ORDER BY submitted_at DESC, id DESC LIMIT @n",
                cancellationToken, ("@a", clientAddress), ("@n", limit)).ConfigureAwait(false)
            : await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE client_address = @a AND (submitted_at, id) < (@t, @id) ORDER BY submitted_at DESC, id DESC LIMIT @n",
                cancellationToken, ("@a", clientAddress), ("@t", after.SubmittedAt), ("@id", after.Id), ("@n", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<JobRecord>> FindJobsByIdempotencyKeysAsync(IReadOnlyList<(string KeyId, string IdempotencyKey)> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return [];
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // One statement for a whole batch of submissions: each pair is an equality on the unique (key_id, idempotency_key) index.
        var parameters = new List<(string, object?)>(keys.Count * 2);
        var pairs = new List<string>(keys.Count);
        for (var i = 0; i < keys.Count; i++)
        {
            pairs.Add($"(key_id = @k{i} AND idempotency_key = @i{i})");
            parameters.Add(($"@k{i}", keys[i].KeyId));
            parameters.Add(($"@i{i}", keys[i].IdempotencyKey));
        }
        return await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE {string.Join(" OR ", pairs)}", cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<long> InsertJobAsync(JobRecord job, OutboxRecord submit, CancellationToken cancellationToken) =>
        (await InsertJobsAsync([(job, submit)], cancellationToken).ConfigureAwait(false))[0];

    public async Task<IReadOnlyList<long>> InsertJobsAsync(IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // A group repeats two statements: each is compiled once for the group, not once per job (compiling SQL was ≈ 40 %
        // of SQLite's CPU in the submission profile).
        await using var statements = new PreparedStatements(connection, tx);
        var ids = new long[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var (job, submit) = jobs[i];
            await statements.For(InsertJobSql, JobParameters(job)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            ids[i] = Convert.ToInt64(await statements.For(InsertOutboxSql, OutboxParameters(submit)).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
                System.Globalization.CultureInfo.InvariantCulture);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    private const string InsertJobSql = $"INSERT INTO jobs ({JobColumns}, updated_at) VALUES (@id, @client, @key, @status, @model, @prompt, @options, @max, @payload, @idem, @req, "
        + "@submitted, @started, @completed, @deadline, @result, @error, @receipt, @cost, @submitted)";

    private static (string, object?)[] JobParameters(JobRecord job) =>
        [("@id", job.Id), ("@client", job.ClientAddress), ("@key", job.KeyId), ("@status", job.Status), ("@model", job.Model), ("@prompt", job.Prompt),
            ("@options", job.OptionsJson), ("@max", checked((long)job.MaxPriceMicro)), ("@payload", job.PayloadHash), ("@idem", job.IdempotencyKey), ("@req", job.RequestHash),
            ("@submitted", job.SubmittedAt), ("@started", job.StartedAt), ("@completed", job.CompletedAt), ("@deadline", job.DeadlineAt), ("@result", job.Result),
            ("@error", job.Error), ("@receipt", job.ReceiptId), ("@cost", job.CostMicro is { } c ? checked((long)c) : null)];

    public Task DeleteJobAsync(string id, CancellationToken cancellationToken) => DeleteJobsAsync([id], cancellationToken);

    public async Task DeleteJobsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var id in ids)
        {
            await ExecuteAsync(connection, tx, "DELETE FROM outbox WHERE job_id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
            // A job that ended before its escrow was refused (cancelled meanwhile) leaves the totals with it.
            await ExecuteAsync(connection, tx, "UPDATE job_totals SET jobs = jobs - 1, paid = paid - COALESCE((SELECT cost FROM jobs WHERE id = @id), 0) "
                + "WHERE status = (SELECT status FROM jobs WHERE id = @id)", cancellationToken, ("@id", id)).ConfigureAwait(false);
            await ExecuteAsync(connection, tx, "DELETE FROM jobs WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> CancelJobAsync(string id, long now, OutboxRecord refund, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        // The state check is in the UPDATE itself, so two racing cancels (or a cancel racing an assignment) cannot both win.
        var changed = await ExecuteAsync(connection, tx, "UPDATE jobs SET status = @cancelled, completed_at = @now, updated_at = @now WHERE id = @id AND status IN (@pending, @assigned)",
            cancellationToken, ("@cancelled", JobStatus.Cancelled), ("@now", now), ("@id", id), ("@pending", JobStatus.Pending), ("@assigned", JobStatus.Assigned)).ConfigureAwait(false);
        if (changed == 0)
        {
            return false;
        }
        await InsertOutboxAsync(connection, tx, refund, cancellationToken).ConfigureAwait(false);
        await CountEndedAsync(connection, tx, JobStatus.Cancelled, 0, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> FailJobAsync(string id, string error, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        if (await ExecuteAsync(connection, tx, "UPDATE jobs SET status = @failed, error = @error, completed_at = @now, updated_at = @now WHERE id = @id AND status NOT IN (@c1, @c2, @c3)",
            cancellationToken, ("@failed", JobStatus.Failed), ("@error", error), ("@now", now), ("@id", id),
            ("@c1", JobStatus.Completed), ("@c2", JobStatus.Failed), ("@c3", JobStatus.Cancelled)).ConfigureAwait(false) == 0)
        {
            return false;
        }
        await CountEndedAsync(connection, tx, JobStatus.Failed, 0, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<OutboxRecord?> NextDueOutboxAsync(long now, CancellationToken cancellationToken) =>
        (await DueOutboxAsync(now, 1, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    public async Task<IReadOnlyList<OutboxRecord>> DueOutboxAsync(long now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // In id order, and never past a row still backing off: a job's refund must not overtake its submit_job.
        var rows = await QueryOutboxAsync(connection, $"SELECT {OutboxColumns} FROM outbox WHERE status = @pending ORDER BY id LIMIT @n",
            cancellationToken, ("@pending", OutboxStatus.Pending), ("@n", limit)).ConfigureAwait(false);
        return [.. rows.TakeWhile(r => r.NotBefore <= now)];
    }

    public async Task<OutboxRecord?> OutboxHeadAsync(CancellationToken cancellationToken) =>
        (await DueOutboxAsync(long.MaxValue, 1, cancellationToken).ConfigureAwait(false)).SingleOrDefault();

    public async Task<IReadOnlyList<OutboxRecord>> SentOutboxAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryOutboxAsync(connection, $"SELECT {OutboxColumns} FROM outbox WHERE status = @sent ORDER BY id LIMIT @n",
            cancellationToken, ("@sent", OutboxStatus.Sent), ("@n", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<OutboxRecord>> OutboxForJobAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryOutboxAsync(connection, $"SELECT {OutboxColumns} FROM outbox WHERE job_id = @j ORDER BY id", cancellationToken, ("@j", jobId)).ConfigureAwait(false);
    }

    public Task MarkOutboxSignedAsync(long id, ulong nonce, string txBytes, string txHash, long now, CancellationToken cancellationToken) =>
        MarkOutboxSignedAsync([new OutboxSignature(id, nonce, txBytes, txHash)], now, cancellationToken);

    public async Task MarkOutboxSignedAsync(IReadOnlyList<OutboxSignature> signatures, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        foreach (var signature in signatures)
        {
            await statements.For("UPDATE outbox SET nonce = @nonce, tx_bytes = @bytes, tx_hash = @hash, updated_at = @now WHERE id = @id",
                [("@nonce", checked((long)signature.Nonce)), ("@bytes", signature.TxBytes), ("@hash", signature.TxHash), ("@now", now), ("@id", signature.Id)])
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task MarkOutboxSentAsync(long id, long now, CancellationToken cancellationToken) => MarkOutboxSentAsync([id], now, cancellationToken);

    public async Task MarkOutboxSentAsync(IReadOnlyList<long> ids, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        foreach (var id in ids)
        {
            await statements.For("UPDATE outbox SET status = @sent, attempts = attempts + 1, sent_at = @now, last_error = NULL, updated_at = @now WHERE id = @id",
                [("@sent", OutboxStatus.Sent), ("@now", now), ("@id", id)]).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task MarkOutboxRetryAsync(long id, string error, long notBefore, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "UPDATE outbox SET status = @pending, attempts = attempts + 1, last_error = @error, not_before = @nb, updated_at = @now WHERE id = @id", cancellationToken,
            ("@pending", OutboxStatus.Pending), ("@error", error), ("@nb", notBefore), ("@now", now), ("@id", id)).ConfigureAwait(false);
    }

    public async Task RequeueOutboxAsync(long id, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "UPDATE outbox SET status = @pending, not_before = @now, updated_at = @now WHERE id = @id AND status = @sent", cancellationToken,
            ("@pending", OutboxStatus.Pending), ("@now", now), ("@id", id), ("@sent", OutboxStatus.Sent)).ConfigureAwait(false);
    }

    public Task CloseOutboxAsync(long id, string status, long? height, string? note, long now, CancellationToken cancellationToken) =>
        CloseOutboxAsync([new OutboxClose(id, status, height, note)], now, cancellationToken);

    public async Task CloseOutboxAsync(IReadOnlyList<OutboxClose> closes, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        foreach (var close in closes)
        {
            await statements.For("UPDATE outbox SET status = @status, height = @height, last_error = @note, updated_at = @now WHERE id = @id",
                [("@status", close.Status), ("@height", close.Height), ("@note", close.Note), ("@now", now), ("@id", close.Id)]).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task UpsertMinerAsync(MinerRecord miner, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, $"INSERT INTO miners ({MinerColumns}) VALUES (@a, @pub, @key, @ep, @models, @cap, @inf, @price, @gpu, @util, @reg, @seen, @rep, 0, 0, 0) "
            + "ON CONFLICT (address) DO UPDATE SET pub_key = excluded.pub_key, key_id = excluded.key_id, endpoint = excluded.endpoint, models_json = excluded.models_json, "
            + "capacity = excluded.capacity, in_flight = excluded.in_flight, price_per_second = excluded.price_per_second, gpu_json = excluded.gpu_json, "
            + "gpu_utilization = excluded.gpu_utilization, last_seen = excluded.last_seen", cancellationToken,
            ("@a", miner.Address), ("@pub", miner.PubKey), ("@key", miner.KeyId), ("@ep", miner.Endpoint), ("@models", System.Text.Json.JsonSerializer.Serialize(miner.Models)),
            ("@cap", miner.Capacity), ("@inf", miner.InFlight), ("@price", checked((long)miner.PricePerSecondMicro)), ("@gpu", miner.GpuJson), ("@util", miner.GpuUtilization),
            ("@reg", miner.RegisteredAt), ("@seen", miner.LastSeen), ("@rep", miner.Reputation)).ConfigureAwait(false);
    }

    public async Task<bool> HeartbeatMinerAsync(string address, IReadOnlyList<string> models, int inFlight, double? gpuUtilization, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "UPDATE miners SET models_json = @models, in_flight = @inf, gpu_utilization = @util, last_seen = @now WHERE address = @a", cancellationToken,
            ("@models", System.Text.Json.JsonSerializer.Serialize(models)), ("@inf", inFlight), ("@util", gpuUtilization), ("@now", now), ("@a", address)).ConfigureAwait(false) > 0;
    }

    public async Task<MinerRecord?> GetMinerAsync(string address, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryMinersAsync(connection, $"SELECT {MinerColumns} FROM miners WHERE address = @a", cancellationToken, ("@a", address)).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<MinerRecord>> ListMinersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryMinersAsync(connection, $"SELECT {MinerColumns} FROM miners ORDER BY address", cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<JobRecord>> PendingJobsAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE status = @s "
            + "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = jobs.id AND o.kind = 'submit_job' AND o.status = 'pending') ORDER BY submitted_at, id LIMIT @n", cancellationToken,
            ("@s", JobStatus.Pending), ("@n", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<JobRecord>> ActiveJobsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs WHERE status IN (@a, @r) ORDER BY submitted_at, id", cancellationToken,
            ("@a", JobStatus.Assigned), ("@r", JobStatus.Running)).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads migration 5's partial index and nothing else: its condition word for word (so both engines know the index
    /// applies), and on SQLite named outright.
    /// </summary>
    internal string PastDeadlineSql =>
        $"SELECT {JobSelectColumns} FROM jobs{_dialect.IndexedBy("ix_jobs_unfinished_deadline")} WHERE status IN ('pending', 'assigned', 'running') AND deadline_at < @now ORDER BY deadline_at, id";

    public async Task<IReadOnlyList<JobRecord>> JobsPastDeadlineAsync(long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await QueryJobsAsync(connection, PastDeadlineSql, cancellationToken, ("@now", now)).ConfigureAwait(false);
    }

    public async Task<bool> AssignJobAsync(string jobId, string miner, ulong pricePerSecondMicro, long now, CancellationToken cancellationToken) =>
        (await AssignJobsAsync([new JobClaim(jobId, miner, pricePerSecondMicro)], now, cancellationToken).ConfigureAwait(false)).Count > 0;

    public async Task<IReadOnlySet<string>> AssignJobsAsync(IReadOnlyList<JobClaim> claims, long now, CancellationToken cancellationToken)
    {
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        if (claims.Count == 0)
        {
            return claimed;
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        // The claim of a pending job: the conditional UPDATE alone is correct (one claimant wins); on PostgreSQL a job
        // another coordinator is claiming right now is skipped at once rather than waited for, so two coordinators
        // claiming overlapping lists in different orders never wait on (or deadlock with) each other.
        var claimSql = "UPDATE jobs SET status = @assigned, miner = @m, assigned_at = @now, price_per_second = @price, updated_at = @now "
            + "WHERE id = @id AND status = @pending" + _dialect.ClaimFilter("jobs", "id", "id = @id AND status = @pending");
        foreach (var claim in claims)
        {
            if (await statements.For(claimSql, [("@assigned", JobStatus.Assigned), ("@m", claim.Miner), ("@now", now), ("@price", checked((long)claim.PricePerSecondMicro)),
                ("@id", claim.JobId), ("@pending", JobStatus.Pending)]).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0)
            {
                claimed.Add(claim.JobId);
            }
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return claimed;
    }

    public async Task<bool> UnassignJobAsync(string jobId, string miner, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "UPDATE jobs SET status = @pending, miner = NULL, assigned_at = NULL, price_per_second = NULL, updated_at = @now "
            + "WHERE id = @id AND status = @assigned AND miner = @m", cancellationToken,
            ("@pending", JobStatus.Pending), ("@now", now), ("@id", jobId), ("@assigned", JobStatus.Assigned), ("@m", miner)).ConfigureAwait(false) > 0;
    }

    public async Task<bool> StartJobAsync(string jobId, string miner, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "UPDATE jobs SET status = @running, started_at = @now, updated_at = @now WHERE id = @id AND status = @assigned AND miner = @m",
            cancellationToken, ("@running", JobStatus.Running), ("@now", now), ("@id", jobId), ("@assigned", JobStatus.Assigned), ("@m", miner)).ConfigureAwait(false) > 0;
    }

    public async Task<bool> CompleteJobAsync(JobRecord completed, ReceiptRecord receipt, OutboxRecord recordReceipt, CancellationToken cancellationToken) =>
        (await CompleteJobsAsync([new CompletedJob(completed, receipt, recordReceipt)], cancellationToken).ConfigureAwait(false))[0];

    public async Task<IReadOnlyList<bool>> CompleteJobsAsync(IReadOnlyList<CompletedJob> completions, CancellationToken cancellationToken)
    {
        var done = new bool[completions.Count];
        if (completions.Count == 0)
        {
            return done;
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        // Rows are locked in one order whatever the group (jobs by id, then miners by address, then the totals), so two
        // coordinators storing groups at once on PostgreSQL wait for each other but never deadlock.
        foreach (var i in Enumerable.Range(0, completions.Count).OrderBy(i => completions[i].Job.Id, StringComparer.Ordinal))
        {
            var (completed, receipt, recordReceipt) = completions[i];
            done[i] = await statements.For("UPDATE jobs SET status = @completed, result = @result, cost = @cost, receipt_id = @receipt, completed_at = @now, "
                + "started_at = COALESCE(started_at, @now), updated_at = @now WHERE id = @id AND status IN (@assigned, @running) AND miner = @m",
                [("@completed", JobStatus.Completed), ("@result", completed.Result), ("@cost", checked((long)completed.CostMicro!.Value)), ("@receipt", receipt.Id),
                ("@now", completed.CompletedAt), ("@id", completed.Id), ("@assigned", JobStatus.Assigned), ("@running", JobStatus.Running), ("@m", receipt.Miner)])
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
            if (!done[i])
            {
                continue;
            }
            await statements.For("INSERT INTO receipts (id, job_id, miner, client, receipt_json, completion_hash, issued_at) VALUES (@id, @job, @m, @c, @json, @hash, @at)",
                [("@id", receipt.Id), ("@job", receipt.JobId), ("@m", receipt.Miner), ("@c", receipt.Client), ("@json", receipt.ReceiptJson),
                ("@hash", receipt.CompletionHash), ("@at", receipt.IssuedAt)]).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await statements.For(InsertOutboxSql, OutboxParameters(recordReceipt)).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        }
        var stored = Enumerable.Range(0, completions.Count).Where(i => done[i]).Select(i => completions[i]).ToList();
        if (stored.Count == 0)
        {
            return done;
        }
        foreach (var miner in stored.Select(c => c.Receipt.Miner).Order(StringComparer.Ordinal))
        {
            // Once per job, as when they complete one by one: the reputation moves the same way.
            await UpdateMinerRecordAsync(connection, tx, miner, MinerOutcome.Completed, cancellationToken).ConfigureAwait(false);
        }
        await CountEndedAsync(connection, tx, JobStatus.Completed, stored.Sum(c => checked((long)c.Job.CostMicro!.Value)), cancellationToken, stored.Count).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return done;
    }

    public async Task<bool> FailJobWithRefundAsync(string jobId, string error, IReadOnlyList<string> fromStatuses, string? miner, MinerOutcome outcome, OutboxRecord refund, long now,
        CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var parameters = new List<(string, object?)> { ("@failed", JobStatus.Failed), ("@error", error), ("@now", now), ("@id", jobId) };
        var statusList = string.Join(", ", fromStatuses.Select((status, i) =>
        {
            parameters.Add(($"@s{i}", status));
            return $"@s{i}";
        }));
        var sql = $"UPDATE jobs SET status = @failed, error = @error, completed_at = @now, updated_at = @now WHERE id = @id AND status IN ({statusList})";
        if (miner is not null)
        {
            sql += " AND miner = @m";
            parameters.Add(("@m", miner));
        }
        if (await ExecuteAsync(connection, tx, sql, cancellationToken, [.. parameters]).ConfigureAwait(false) == 0)
        {
            return false;
        }
        await InsertOutboxAsync(connection, tx, refund, cancellationToken).ConfigureAwait(false);
        await CountEndedAsync(connection, tx, JobStatus.Failed, 0, cancellationToken).ConfigureAwait(false);
        var holder = miner ?? (await ScalarAsync(connection, tx, "SELECT miner FROM jobs WHERE id = @id", cancellationToken, ("@id", jobId)).ConfigureAwait(false) as string);
        if (holder is not null)
        {
            await UpdateMinerRecordAsync(connection, tx, holder, outcome, cancellationToken).ConfigureAwait(false);
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<ReceiptRecord?> GetReceiptAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryReceiptsAsync(connection, ReceiptSelect + " WHERE r.id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<ReceiptRecord?> GetReceiptByJobAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryReceiptsAsync(connection, ReceiptSelect + " WHERE r.job_id = @id", cancellationToken, ("@id", jobId)).ConfigureAwait(false)).SingleOrDefault();
    }

    public async Task<IReadOnlyList<ReceiptRecord>> ListReceiptsAsync(TimeCursor? before, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return before is null
            ? await QueryReceiptsAsync(connection, ReceiptSelect + " ORDER BY r.issued_at DESC, r.id DESC LIMIT @n", cancellationToken, ("@n", limit)).ConfigureAwait(false)
            : await QueryReceiptsAsync(connection, ReceiptSelect + " WHERE (r.issued_at, r.id) < (@t, @id) ORDER BY r.issued_at DESC, r.id DESC LIMIT @n", cancellationToken,
                ("@t", before.At), ("@id", before.Id), ("@n", limit)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<JobRecord>> ListAllJobsAsync(string? status, JobCursor? after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var where = new List<string>();
        var parameters = new List<(string, object?)> { ("@n", limit) };
        if (status is not null)
        {
            where.Add("status = @s");
            parameters.Add(("@s", status));
        }
        if (after is not null)
        {
            where.Add("(submitted_at, id) < (@t, @id)");
            parameters.Add(("@t", after.SubmittedAt));
            parameters.Add(("@id", after.Id));
        }
        var filter = where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where);
        return await QueryJobsAsync(connection, $"SELECT {JobSelectColumns} FROM jobs{filter} ORDER BY submitted_at DESC, id DESC LIMIT @n", cancellationToken, [.. parameters]).ConfigureAwait(false);
    }

    public async Task<IReadOnlyDictionary<string, long>> JobCountsByStatusAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Unfinished jobs are few and counted from the status index; ended ones are kept counted in job_totals.
        await using var command = Command(connection, null, "SELECT status, COUNT(*) FROM jobs WHERE status IN (@p, @a, @r) GROUP BY status "
            + "UNION ALL SELECT status, jobs FROM job_totals", ("@p", JobStatus.Pending), ("@a", JobStatus.Assigned), ("@r", JobStatus.Running));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }
        return counts;
    }

    public async Task<ulong> TotalPaidAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var sum = await ScalarAsync(connection, null, "SELECT COALESCE(SUM(paid), 0) FROM job_totals WHERE status = @c", cancellationToken, ("@c", JobStatus.Completed)).ConfigureAwait(false);
        return checked((ulong)Convert.ToInt64(sum, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Counts jobs that just ended (and, completed, what they paid), in the transaction that ended them.</summary>
    private static Task<int> CountEndedAsync(DbConnection connection, DbTransaction tx, string status, long paid, CancellationToken cancellationToken, int jobs = 1) =>
        ExecuteAsync(connection, tx, "INSERT INTO job_totals (status, jobs, paid) VALUES (@s, @n, @paid) "
            + "ON CONFLICT (status) DO UPDATE SET jobs = job_totals.jobs + excluded.jobs, paid = job_totals.paid + excluded.paid", cancellationToken,
            ("@s", status), ("@n", jobs), ("@paid", paid));

    // Reputation moves toward 1 by 5 % of the gap on a completion, and loses 20 % (failure) or 30 % (timeout) of itself: it stays in [0, 1].
    private static Task<int> UpdateMinerRecordAsync(DbConnection connection, DbTransaction tx, string miner, MinerOutcome outcome, CancellationToken cancellationToken) =>
        outcome switch
        {
            MinerOutcome.Completed => ExecuteAsync(connection, tx, "UPDATE miners SET reputation = reputation + 0.05 * (1 - reputation), jobs_completed = jobs_completed + 1 WHERE address = @m",
                cancellationToken, ("@m", miner)),
            MinerOutcome.Failed => ExecuteAsync(connection, tx, "UPDATE miners SET reputation = reputation * 0.8, jobs_failed = jobs_failed + 1 WHERE address = @m",
                cancellationToken, ("@m", miner)),
            MinerOutcome.TimedOut => ExecuteAsync(connection, tx, "UPDATE miners SET reputation = reputation * 0.7, jobs_timed_out = jobs_timed_out + 1 WHERE address = @m",
                cancellationToken, ("@m", miner)),
            _ => Task.FromResult(0),
        };

    private static async Task<List<MinerRecord>> QueryMinersAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var miners = new List<MinerRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            miners.Add(new MinerRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                System.Text.Json.JsonSerializer.Deserialize<List<string>>(reader.GetString(4)) ?? [], reader.GetInt32(5), reader.GetInt32(6), checked((ulong)reader.GetInt64(7)),
                NullableString(reader, 8), reader.IsDBNull(9) ? null : reader.GetDouble(9), reader.GetInt64(10), reader.GetInt64(11), reader.GetDouble(12),
                reader.GetInt64(13), reader.GetInt64(14), reader.GetInt64(15)));
        }
        return miners;
    }

    private static async Task<List<ReceiptRecord>> QueryReceiptsAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var receipts = new List<ReceiptRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            receipts.Add(new ReceiptRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetInt64(6), NullableString(reader, 7), NullableLong(reader, 8)));
        }
        return receipts;
    }

    private static async Task<long> InsertOutboxAsync(DbConnection connection, DbTransaction tx, OutboxRecord row, CancellationToken cancellationToken) =>
        Convert.ToInt64(await ScalarAsync(connection, tx, InsertOutboxSql, cancellationToken, OutboxParameters(row)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);

    private const string InsertOutboxSql = "INSERT INTO outbox (job_id, kind, body_json, status, attempts, last_error, nonce, tx_bytes, tx_hash, height, created_at, not_before, sent_at, updated_at) "
        + "VALUES (@job, @kind, @body, @status, 0, NULL, @nonce, @bytes, @hash, NULL, @created, @nb, NULL, @created) RETURNING id";

    private static (string, object?)[] OutboxParameters(OutboxRecord row) =>
        [("@job", row.JobId), ("@kind", row.Kind), ("@body", row.BodyJson), ("@status", row.Status), ("@nonce", row.Nonce is { } n ? checked((long)n) : null),
            ("@bytes", row.TxBytes), ("@hash", row.TxHash), ("@created", row.CreatedAt), ("@nb", row.NotBefore)];

    /// <summary>
    /// The commands of one transaction by SQL text, each prepared once and run again with new parameter values: a statement
    /// repeated for every row of a group (submissions, claims, completions) is compiled once.
    /// </summary>
    private sealed class PreparedStatements(DbConnection connection, DbTransaction tx) : IAsyncDisposable
    {
        private readonly Dictionary<string, DbCommand> _commands = new(StringComparer.Ordinal);

        /// <summary>The command for <paramref name="sql"/>, its parameters (always given in the same order) set to these values.</summary>
        public DbCommand For(string sql, (string Name, object? Value)[] parameters)
        {
            if (!_commands.TryGetValue(sql, out var command))
            {
                command = Command(connection, tx, sql, parameters);
                _commands.Add(sql, command);
                return command;
            }
            for (var i = 0; i < parameters.Length; i++)
            {
                command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
            }
            return command;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var command in _commands.Values)
            {
                await command.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static (string, object?)[] KeyParameters(ApiKeyRecord key) =>
        [("@id", key.Id), ("@role", key.Role), ("@hash", key.KeyHash), ("@address", key.Address), ("@pub", key.MinerPubKey), ("@created", key.CreatedAt)];

    private async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = _dialect.CreateConnection();
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await _dialect.OnOpenAsync(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static DbCommand Command(DbConnection connection, DbTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        return command;
    }

    private static async Task<int> ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<List<JobRecord>> QueryJobsAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var jobs = new List<JobRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            jobs.Add(new JobRecord(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), checked((ulong)reader.GetInt64(7)), reader.GetString(8), NullableString(reader, 9), NullableString(reader, 10),
                reader.GetInt64(11), NullableLong(reader, 12), NullableLong(reader, 13), reader.GetInt64(14), NullableString(reader, 15), NullableString(reader, 16),
                NullableString(reader, 17), NullableLong(reader, 18) is { } cost ? checked((ulong)cost) : null)
            {
                Miner = NullableString(reader, 19),
                AssignedAt = NullableLong(reader, 20),
                PricePerSecondMicro = NullableLong(reader, 21) is { } price ? checked((ulong)price) : null,
            });
        }
        return jobs;
    }

    private static async Task<List<OutboxRecord>> QueryOutboxAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<OutboxRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new OutboxRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                NullableString(reader, 6), NullableLong(reader, 7) is { } nonce ? checked((ulong)nonce) : null, NullableString(reader, 8), NullableString(reader, 9),
                NullableLong(reader, 10), reader.GetInt64(11), reader.GetInt64(12), NullableLong(reader, 13)));
        }
        return rows;
    }

    private static string? NullableString(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static long? NullableLong(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
}

/// <summary>The store on a SQLite file in WAL mode: readers never block the writer; SQLite serialises writers, and a busy writer is waited for, not failed.</summary>
public sealed class SqliteCoordinatorStore(string path) : CoordinatorStore(new SqliteDialect(path));

/// <summary>The store on PostgreSQL; several coordinators may share the database (see docs/coordinator.md, "PostgreSQL").</summary>
public sealed class PostgresCoordinatorStore(string connectionString) : CoordinatorStore(new PostgresDialect(DatabaseSettings.ToNpgsql(connectionString)));
