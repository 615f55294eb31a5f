using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Npgsql;
using SQLitePCL;

namespace Aitbc.Coordinator.Storage;

/// <summary>
/// What differs between the engines <see cref="CoordinatorStore"/> runs on, in one place: how connections are made and
/// set up, the auto-numbered key in the schema, how migrations are serialised, and how a claim skips rows another
/// coordinator holds. Every query is otherwise the same SQL on both.
/// </summary>
internal abstract class SqlDialect : IAsyncDisposable
{
    /// <summary>Written in migration SQL where an auto-numbered <c>BIGINT</c> primary key goes.</summary>
    public const string IdentityPrimaryKey = "{identity_primary_key}";

    public abstract string Name { get; }

    /// <summary>The engine's auto-numbered primary key column type.</summary>
    protected abstract string IdentityPrimaryKeySql { get; }

    /// <summary>Appended to a <c>SELECT … FOR</c> a claim: PostgreSQL skips rows another transaction has locked; SQLite (one writer) needs nothing.</summary>
    public abstract string SkipLocked { get; }

    public abstract DbConnection CreateConnection();

    /// <summary>
    /// Written after a table in FROM where one index is the only sane plan: SQLite's planner, without statistics, prefers an
    /// equality on any index (the status index, walking every pending job) to a range on a partial one; PostgreSQL keeps
    /// statistics and chooses well, and has no such clause.
    /// </summary>
    public abstract string IndexedBy(string index);

    /// <summary>
    /// Added to the WHERE of a conditional UPDATE that claims a row: on PostgreSQL it also requires the row to be lockable
    /// now (<c>FOR UPDATE SKIP LOCKED</c>), so a coordinator never queues behind another one's claim; SQLite has one writer and needs nothing.
    /// </summary>
    public string ClaimFilter(string table, string key, string where) =>
        SkipLocked.Length == 0 ? "" : $" AND {key} IN (SELECT {key} FROM {table} WHERE {where}{SkipLocked})";

    /// <summary>Per-connection settings, run after each open.</summary>
    public virtual Task OnOpenAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Runs before migrating, on the connection that migrates: SQLite switches the file to WAL; PostgreSQL takes a session
    /// advisory lock so that coordinators starting together migrate one after the other.
    /// </summary>
    public abstract Task BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken);

    public virtual Task EndMigrationAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Waits for this process's turn to write, or returns null where the engine needs none. SQLite has one writer per file:
    /// a writer that finds it taken waits in SQLite's busy handler, which sleeps 1–100 ms between looks; taking turns here
    /// first wakes the next writer the moment the previous one commits. PostgreSQL locks rows, not the database.
    /// </summary>
    public virtual ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IDisposable?>(null);

    public string Schema(string sql) => sql.Replace(IdentityPrimaryKey, IdentityPrimaryKeySql, StringComparison.Ordinal);

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    protected static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>SQLite in WAL mode: one file, readers never block the writer; SQLite serialises writers itself (a busy writer is waited for up to the 30 s timeout).</summary>
internal sealed class SqliteDialect : SqlDialect
{
    private static readonly object Configured = new();

    private readonly string _connectionString;

    // The pool hands the same physical connection (its sqlite3 handle) out again and again, and pragmas stay set on it:
    // the handles already set up, held weakly so a connection the pool closes takes its entry with it.
    private readonly ConditionalWeakTable<sqlite3, object> _configured = [];

    public SqliteDialect(string path)
    {
        // Owner-only (0600 in a 0700 directory): the database holds API key hashes and every job's prompt and result.
        Aitbc.Core.PrivateFiles.CreateFile(path);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            ForeignKeys = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    private readonly SemaphoreSlim _writeTurn = new(1, 1);

    public override string Name => "sqlite";

    public override async ValueTask<IDisposable?> EnterWriteAsync(CancellationToken cancellationToken)
    {
        await _writeTurn.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new WriteTurn(_writeTurn);
    }

    protected override string IdentityPrimaryKeySql => "INTEGER PRIMARY KEY";

    public override string SkipLocked => "";

    public override string IndexedBy(string index) => $" INDEXED BY {index}";

    public override DbConnection CreateConnection() => new SqliteConnection(_connectionString);

    // NORMAL is durable across process crashes in WAL mode (only an OS crash can lose the last commits) and much faster than FULL.
    // busy_timeout: a writer that finds the lock taken waits inside SQLite (in 1–100 ms steps) instead of failing with
    // SQLITE_BUSY into Microsoft.Data.Sqlite's own retry, which sleeps ≈150 ms: measured as 150–300 ms p99 stalls on
    // submit→assign and complete→visible at 10 clients (docs/performance.md, "What limits it").
    // Once per physical connection, not per open: it was a statement prepared and run on every pooled open.
    public override Task OnOpenAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        var handle = ((SqliteConnection)connection).Handle ?? throw new InvalidOperationException("the connection is not open");
        return _configured.TryGetValue(handle, out _) ? Task.CompletedTask : ConfigureAsync(connection, handle, cancellationToken);
    }

    private async Task ConfigureAsync(DbConnection connection, sqlite3 handle, CancellationToken cancellationToken)
    {
        await ExecuteAsync(connection, "PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;", cancellationToken).ConfigureAwait(false);
        _configured.AddOrUpdate(handle, Configured);
    }

    // WAL is a property of the file: set once, it holds for every later connection.
    public override Task BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken) => ExecuteAsync(connection, "PRAGMA journal_mode = WAL;", cancellationToken);
}

/// <summary>
/// PostgreSQL through one pooled <see cref="NpgsqlDataSource"/>, at READ COMMITTED: every state change is a conditional
/// UPDATE, which PostgreSQL re-checks against the newest row version after waiting for a concurrent writer, so two
/// coordinators never both win one transition.
/// </summary>
internal sealed class PostgresDialect(string connectionString) : SqlDialect
{
    // An arbitrary constant: the key of the advisory lock that serialises migrations across coordinators.
    private const long MigrationLockKey = 0x41495442_43000001;

    private readonly NpgsqlDataSource _dataSource = NpgsqlDataSource.Create(connectionString);

    public override string Name => "postgresql";

    protected override string IdentityPrimaryKeySql => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";

    public override string SkipLocked => " FOR UPDATE SKIP LOCKED";

    public override string IndexedBy(string index) => "";

    public override DbConnection CreateConnection() => _dataSource.CreateConnection();

    public override Task BeginMigrationAsync(DbConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, $"SELECT pg_advisory_lock({MigrationLockKey})", cancellationToken);

    public override Task EndMigrationAsync(DbConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, $"SELECT pg_advisory_unlock({MigrationLockKey})", cancellationToken);

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();
}

/// <summary>A writer's turn on a SQLite file (<see cref="SqlDialect.EnterWriteAsync"/>), given back once.</summary>
internal sealed class WriteTurn(SemaphoreSlim turn) : IDisposable
{
    private int _released;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            turn.Release();
        }
    }
}
