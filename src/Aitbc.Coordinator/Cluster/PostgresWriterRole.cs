using System.Security.Cryptography;
using System.Text;
using Aitbc.Coordinator.Chain;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Aitbc.Coordinator.Cluster;

/// <summary>
/// The chain writer role among coordinator processes sharing one PostgreSQL database: a session advisory lock named
/// after the coordinator's address, held on a connection of its own. A process that dies (even by <c>kill -9</c>) drops
/// its connection and with it the lock, and the next process to try takes the role within
/// <see cref="CoordinatorOptions.WriterRetryInterval"/>. The holder checks its connection at that interval too and gives
/// up the role the moment the connection fails, before PostgreSQL could hand the lock to anyone else.
/// </summary>
public sealed class PostgresWriterRole(string connectionString, Core.Address coordinator, CoordinatorOptions options, ILogger<PostgresWriterRole> logger) : IWriterRole
{
    /// <summary>The advisory lock's key: the first 8 bytes of SHA-256("aitbc-chain-writer:" + address), so each coordinator key has its own.</summary>
    public long LockKey { get; } = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("aitbc-chain-writer:" + coordinator.Value)), 0);

    public async Task<IWriterLease> AcquireAsync(CancellationToken cancellationToken)
    {
        var logged = false;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            NpgsqlConnection? connection = null;
            try
            {
                // Not pooled: the lock lives as long as this session, and closing it must end the session.
                connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 5 }.ConnectionString);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@k)", connection))
                {
                    command.Parameters.AddWithValue("k", LockKey);
                    if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
                    {
                        var lease = new Lease(connection, options, logger);
                        connection = null;
                        return lease;
                    }
                }
                if (!logged)
                {
                    logger.LogInformation("another coordinator process is the chain writer for {Address}; this one serves requests and waits for the role", coordinator);
                    logged = true;
                }
            }
            catch (NpgsqlException e)
            {
                logger.LogWarning("cannot ask PostgreSQL for the chain writer role: {Error}", e.Message);
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
            await Task.Delay(options.WriterRetryInterval, options.Time, cancellationToken).ConfigureAwait(false);
        }
    }

    private sealed class Lease : IWriterLease
    {
        private readonly NpgsqlConnection _connection;
        private readonly CancellationTokenSource _lost = new();
        private readonly Task _watch;

        public Lease(NpgsqlConnection connection, CoordinatorOptions options, ILogger logger)
        {
            _connection = connection;
            _watch = WatchAsync(options, logger);
        }

        public CancellationToken Lost => _lost.Token;

        private async Task WatchAsync(CoordinatorOptions options, ILogger logger)
        {
            try
            {
                while (!_lost.IsCancellationRequested)
                {
                    await Task.Delay(options.WriterRetryInterval, options.Time, _lost.Token).ConfigureAwait(false);
                    await using var command = new NpgsqlCommand("SELECT 1", _connection);
                    await command.ExecuteScalarAsync(_lost.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (_lost.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                logger.LogWarning("the chain writer role's PostgreSQL connection failed: {Error}", e.Message);
                await _lost.CancelAsync().ConfigureAwait(false);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_lost.IsCancellationRequested)
            {
                await _lost.CancelAsync().ConfigureAwait(false);
            }
            await _watch.ConfigureAwait(false);
            // Closing the session releases the advisory lock.
            await _connection.DisposeAsync().ConfigureAwait(false);
            _lost.Dispose();
        }
    }
}
