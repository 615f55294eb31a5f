using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>The outbox: the chain writer's queue of transactions, in id order, and what became of each.</summary>
public abstract partial class CoordinatorStore
{
    private const string OutboxColumns = "id, job_id, kind, body_json, status, attempts, last_error, nonce, tx_hash, height, created_at, not_before, sent_at";

    public async Task<IReadOnlyList<OutboxRecord>> DueOutboxAsync(long now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // In id order, and never past an earlier pending row of the same job (a refund must not overtake its job's
        // submit_job); a row backing off holds back its own job's later rows only, never other jobs' settlements.
        return await QueryOutboxAsync(connection, $"SELECT {OutboxColumns} FROM outbox o WHERE status = @pending AND not_before <= @now AND {NoEarlierPending} ORDER BY id LIMIT @n",
            cancellationToken, ("@pending", OutboxStatus.Pending), ("@now", now), ("@n", limit)).ConfigureAwait(false);
    }

    /// <summary>The pending row that falls due first (none of its job's rows before it pending), or null when none is pending.</summary>
    public async Task<OutboxRecord?> OutboxHeadAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return (await QueryOutboxAsync(connection, $"SELECT {OutboxColumns} FROM outbox o WHERE status = @pending AND {NoEarlierPending} ORDER BY not_before, id LIMIT 1",
            cancellationToken, ("@pending", OutboxStatus.Pending)).ConfigureAwait(false)).SingleOrDefault();
    }

    /// <summary>The condition on outbox row <c>o</c> that no earlier row of its job is still pending.</summary>
    private const string NoEarlierPending = "NOT EXISTS (SELECT 1 FROM outbox p WHERE p.job_id = o.job_id AND p.status = @pending AND p.id < o.id)";

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

    public async Task MarkOutboxSignedAsync(IReadOnlyList<OutboxSignature> signatures, long now, CancellationToken cancellationToken) =>
        await StoreFlightAsync(signatures, [], now, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<long>> StoreFlightAsync(IReadOnlyList<OutboxSignature> signatures, IReadOnlyList<(JobRecord Job, OutboxRecord Submit)> jobs, long now,
        CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        foreach (var signature in signatures)
        {
            await statements.For("UPDATE outbox SET nonce = @nonce, tx_hash = @hash, updated_at = @now WHERE id = @id",
                [("@nonce", checked((long)signature.Nonce)), ("@hash", signature.TxHash), ("@now", now), ("@id", signature.Id)])
                .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        var ids = await InsertJobsAsync(statements, jobs, cancellationToken).ConfigureAwait(false);
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
        return ids;
    }

    public Task MarkOutboxSentAsync(long id, long now, CancellationToken cancellationToken) => MarkOutboxSentAsync([id], now, cancellationToken);

    public async Task MarkOutboxSentAsync(IReadOnlyList<long> ids, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
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
        await WriteAsync(connection, "UPDATE outbox SET status = @pending, attempts = attempts + 1, last_error = @error, not_before = @nb, updated_at = @now WHERE id = @id", cancellationToken,
            ("@pending", OutboxStatus.Pending), ("@error", error), ("@nb", notBefore), ("@now", now), ("@id", id)).ConfigureAwait(false);
    }

    public async Task RequeueOutboxAsync(long id, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(connection, "UPDATE outbox SET status = @pending, not_before = @now, updated_at = @now WHERE id = @id AND status = @sent", cancellationToken,
            ("@pending", OutboxStatus.Pending), ("@now", now), ("@id", id), ("@sent", OutboxStatus.Sent)).ConfigureAwait(false);
    }

    public Task CloseOutboxAsync(long id, string status, long? height, string? note, long now, CancellationToken cancellationToken) =>
        CloseOutboxAsync([new OutboxClose(id, status, height, note)], now, cancellationToken);

    public async Task CloseOutboxAsync(IReadOnlyList<OutboxClose> closes, long now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var tx = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        await using var statements = new PreparedStatements(connection, tx);
        foreach (var close in closes)
        {
            await statements.For("UPDATE outbox SET status = @status, height = @height, last_error = @note, updated_at = @now WHERE id = @id",
                [("@status", close.Status), ("@height", close.Height), ("@note", close.Note), ("@now", now), ("@id", close.Id)]).ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            if (close.EscrowOf is { } jobId)
            {
                // In the same transaction: a job's result is released once its escrow is known to be in a block.
                await statements.For("UPDATE jobs SET escrow_at = @now WHERE id = @job AND escrow_at IS NULL", [("@now", now), ("@job", jobId)])
                    .ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<long> InsertOutboxAsync(DbConnection connection, DbTransaction tx, OutboxRecord row, CancellationToken cancellationToken) =>
        Convert.ToInt64(await ScalarAsync(connection, tx, InsertOutboxSql, cancellationToken, OutboxParameters(row)).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);

    private const string InsertOutboxSql = "INSERT INTO outbox (job_id, kind, body_json, status, attempts, last_error, nonce, tx_hash, height, created_at, not_before, sent_at, updated_at) "
        + "VALUES (@job, @kind, @body, @status, 0, NULL, @nonce, @hash, NULL, @created, @nb, NULL, @created) RETURNING id";

    private static async Task<List<OutboxRecord>> QueryOutboxAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<OutboxRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new OutboxRecord(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
                NullableString(reader, 6), NullableLong(reader, 7) is { } nonce ? checked((ulong)nonce) : null, NullableString(reader, 8),
                NullableLong(reader, 9), reader.GetInt64(10), reader.GetInt64(11), NullableLong(reader, 12)));
        }
        return rows;
    }

    private static (string, object?)[] OutboxParameters(OutboxRecord row) =>
        [("@job", row.JobId), ("@kind", row.Kind), ("@body", row.BodyJson), ("@status", row.Status), ("@nonce", row.Nonce is { } n ? checked((long)n) : null),
            ("@hash", row.TxHash), ("@created", row.CreatedAt), ("@nb", row.NotBefore)];
}
