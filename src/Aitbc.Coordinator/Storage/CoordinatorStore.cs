using System.Data.Common;
using Aitbc.Client.Coordinator;

namespace Aitbc.Coordinator.Storage;

/// <summary>
/// <see cref="ICoordinatorStore"/> over ADO.NET, one implementation for SQLite and PostgreSQL: the same SQL on both, with
/// what differs (connections, the auto-numbered key, skipping locked rows, migration locking) in a <see cref="SqlDialect"/>.
/// A connection per call (both providers pool them). Every state change is a conditional UPDATE whose WHERE names the
/// state it leaves, so racing callers (in one process or, on PostgreSQL, in several) cannot both make one transition.
/// </summary>
public abstract partial class CoordinatorStore : ICoordinatorStore, IAsyncDisposable
{
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

    /// <summary>Begins a transaction that writes, in this process's turn to write (<see cref="SqlDialect.EnterWriteAsync"/>).</summary>
    private async Task<WriteTransaction> BeginWriteAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var turn = await _dialect.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return new WriteTransaction(await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false), turn);
        }
        catch
        {
            turn?.Dispose();
            throw;
        }
    }

    /// <summary>One statement that writes, on its own (autocommit), in this process's turn to write.</summary>
    private async Task<int> WriteAsync(DbConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] parameters)
    {
        using var turn = await _dialect.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, sql, cancellationToken, parameters).ConfigureAwait(false);
    }

    /// <summary>A write transaction and the turn it holds: the turn is given back after the transaction ends, committed or not.</summary>
    private sealed class WriteTransaction(DbTransaction tx, IDisposable? turn) : IAsyncDisposable
    {
        public static implicit operator DbTransaction(WriteTransaction write) => write.Tx;

        public DbTransaction Tx { get; } = tx;

        public Task CommitAsync(CancellationToken cancellationToken) => Tx.CommitAsync(cancellationToken);

        public async ValueTask DisposeAsync()
        {
            try
            {
                await Tx.DisposeAsync().ConfigureAwait(false);
            }
            finally
            {
                turn?.Dispose();
            }
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

    private static string? NullableString(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static long? NullableLong(DbDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
}

/// <summary>The store on a SQLite file in WAL mode: readers never block the writer; SQLite serialises writers, and a busy writer is waited for, not failed.</summary>
public sealed class SqliteCoordinatorStore(string path) : CoordinatorStore(new SqliteDialect(path));

/// <summary>The store on PostgreSQL; several coordinators may share the database (see docs/coordinator.md, "PostgreSQL").</summary>
public sealed class PostgresCoordinatorStore(string connectionString) : CoordinatorStore(new PostgresDialect(DatabaseSettings.ToNpgsql(connectionString)));
