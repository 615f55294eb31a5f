using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>Miners: registrations, heartbeats and their records (reputation, counts).</summary>
public abstract partial class CoordinatorStore
{
    private const string MinerColumns = "address, pub_key, key_id, endpoint, models_json, capacity, in_flight, price_per_second, gpu_json, gpu_utilization, "
        + "registered_at, last_seen, reputation, jobs_completed, jobs_failed, jobs_timed_out";

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
        return await WriteAsync(connection, "UPDATE miners SET models_json = @models, in_flight = @inf, gpu_utilization = @util, last_seen = @now WHERE address = @a", cancellationToken,
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
}
