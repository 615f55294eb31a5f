using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>API keys: stored as hashes, revoked by emptying the hash.</summary>
public abstract partial class CoordinatorStore
{
    public async Task InsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(connection, "INSERT INTO api_keys (id, role, key_hash, address, miner_pub_key, created_at) VALUES (@id, @role, @hash, @address, @pub, @created)",
            cancellationToken, KeyParameters(key)).ConfigureAwait(false);
    }

    public async Task UpsertApiKeyAsync(ApiKeyRecord key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await WriteAsync(connection, "INSERT INTO api_keys (id, role, key_hash, address, miner_pub_key, created_at) VALUES (@id, @role, @hash, @address, @pub, @created) "
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
        return await WriteAsync(connection, "UPDATE api_keys SET key_hash = '' WHERE id = @id", cancellationToken, ("@id", id)).ConfigureAwait(false) == 1;
    }

    private static (string, object?)[] KeyParameters(ApiKeyRecord key) =>
        [("@id", key.Id), ("@role", key.Role), ("@hash", key.KeyHash), ("@address", key.Address), ("@pub", key.MinerPubKey), ("@created", key.CreatedAt)];
}
