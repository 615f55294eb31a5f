using System.Data.Common;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>Jobs: submission, every state transition as a conditional UPDATE, the totals, and the queries the scheduler and views use.</summary>
public abstract partial class CoordinatorStore
{
    private const string JobColumns = "id, client_address, key_id, status, model, prompt, options_json, max_price, payload_hash, idempotency_key, request_hash, "
        + "submitted_at, started_at, completed_at, deadline_at, result, error, receipt_id, cost";

    private const string JobSelectColumns = JobColumns + ", miner, assigned_at, price_per_second, trace_parent, escrow_at";

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

    public async Task<IReadOnlyList<long>> InsertJobsAsync(IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        // A group repeats two statements: each is compiled once for the group, not once per job (compiling SQL was ≈ 40 %
        // of SQLite's CPU in the submission profile).
        await using var statements = new PreparedStatements(connection, tx);
        var ids = await InsertJobsAsync(statements, jobs, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    private static async Task<IReadOnlyList<long>> InsertJobsAsync(PreparedStatements statements, IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, CancellationToken cancellationToken)
    {
        var ids = new long[jobs.Count];
        for (var i = 0; i < jobs.Count; i++)
        {
            var (job, submit) = jobs[i];
            await statements.For(InsertJobSql, JobParameters(job)).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            ids[i] = Convert.ToInt64(await statements.For(InsertOutboxSql, OutboxParameters(submit)).ExecuteScalarAsync(cancellationToken).ConfigureAwait(false),
                System.Globalization.CultureInfo.InvariantCulture);
        }
        return ids;
    }

    private const string InsertJobSql = $"INSERT INTO jobs ({JobColumns}, trace_parent, updated_at) VALUES (@id, @client, @key, @status, @model, @prompt, @options, @max, @payload, @idem, @req, "
        + "@submitted, @started, @completed, @deadline, @result, @error, @receipt, @cost, @trace, @submitted)";

    public async Task DeleteJobsAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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

    public async Task<IReadOnlySet<string>> AssignJobsAsync(IReadOnlyList<JobClaim> claims, long now, CancellationToken cancellationToken)
    {
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        if (claims.Count == 0)
        {
            return claimed;
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
        return await WriteAsync(connection, "UPDATE jobs SET status = @pending, miner = NULL, assigned_at = NULL, price_per_second = NULL, updated_at = @now "
            + "WHERE id = @id AND status = @assigned AND miner = @m", cancellationToken,
            ("@pending", JobStatus.Pending), ("@now", now), ("@id", jobId), ("@assigned", JobStatus.Assigned), ("@m", miner)).ConfigureAwait(false) > 0;
    }

    public async Task<bool> StartJobAsync(string jobId, string miner, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync(connection, "UPDATE jobs SET status = @running, started_at = @now, updated_at = @now WHERE id = @id AND status = @assigned AND miner = @m",
            cancellationToken, ("@running", JobStatus.Running), ("@now", now), ("@id", jobId), ("@assigned", JobStatus.Assigned), ("@m", miner)).ConfigureAwait(false) > 0;
    }

    public async Task<IReadOnlyList<bool>> CompleteJobsAsync(IReadOnlyList<CompletedJob> completions, CancellationToken cancellationToken)
    {
        var done = new bool[completions.Count];
        if (completions.Count == 0)
        {
            return done;
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
                TraceParent = NullableString(reader, 22),
                EscrowAt = NullableLong(reader, 23),
            });
        }
        return jobs;
    }

    private static (string, object?)[] JobParameters(JobRecord job) =>
        [("@id", job.Id), ("@client", job.ClientAddress), ("@key", job.KeyId), ("@status", job.Status), ("@model", job.Model), ("@prompt", job.Prompt),
            ("@options", job.OptionsJson), ("@max", checked((long)job.MaxPriceMicro)), ("@payload", job.PayloadHash), ("@idem", job.IdempotencyKey), ("@req", job.RequestHash),
            ("@submitted", job.SubmittedAt), ("@started", job.StartedAt), ("@completed", job.CompletedAt), ("@deadline", job.DeadlineAt), ("@result", job.Result),
            ("@error", job.Error), ("@receipt", job.ReceiptId), ("@cost", job.CostMicro is { } c ? checked((long)c) : null), ("@trace", job.TraceParent)];
}
