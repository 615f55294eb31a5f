using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>Receipts, with the block their record_receipt landed in.</summary>
public abstract partial class CoordinatorStore
{
    private const string ReceiptSelect = "SELECT r.id, r.job_id, r.miner, r.client, r.receipt_json, r.completion_hash, r.issued_at, o.tx_hash, o.height FROM receipts r "
        + "LEFT JOIN outbox o ON o.job_id = r.job_id AND o.kind = 'record_receipt' AND o.status = 'committed' AND o.height IS NOT NULL";

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
}
