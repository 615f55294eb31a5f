using Aitbc.Core;
using Microsoft.Data.Sqlite;

namespace Aitbc.Miner.Outbox;

/// <summary>What an outbox message tells the coordinator about a job.</summary>
public enum OutboxKind
{
    /// <summary><c>POST /v1/jobs/{id}/status</c> (running).</summary>
    Status,

    /// <summary><c>POST /v1/jobs/{id}/complete</c> with the result and proof.</summary>
    Complete,

    /// <summary><c>POST /v1/jobs/{id}/fail</c> with the error.</summary>
    Fail,
}

/// <summary>One message not yet acknowledged by the coordinator; <see cref="Body"/> is its JSON as sent.</summary>
public sealed record OutboxMessage(long Id, string JobId, OutboxKind Kind, string Body, long CreatedAtMs);

/// <summary>
/// The miner's outbox: every message to the coordinator about a job is written here (SQLite, WAL) before it is sent
/// and deleted once the coordinator has answered for good, so a result survives a coordinator outage and a miner restart.
/// </summary>
public sealed class OutboxStore : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly Lock _gate = new();

    public OutboxStore(string path)
    {
        // Owner-only (0600 in a 0700 directory): the outbox holds job results not yet delivered.
        PrivateFiles.CreateFile(path);
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA journal_mode=WAL;");
        // WAL with synchronous=NORMAL survives a process crash (the case the outbox is for); only a power loss may lose the last commit.
        Execute("PRAGMA synchronous=NORMAL;");
        Execute("""
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                job_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at_ms INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS ix_outbox_job ON outbox (job_id);
            """);
    }

    /// <summary>
    /// Stores a message; returns its id (messages are delivered in id order). A job's outcome (complete or fail) replaces,
    /// in the same transaction, the job's <c>running</c> report if that is still waiting here: the coordinator accepts
    /// the outcome from assigned too, so the report would only cost it one more request and transaction. A report
    /// already on its way is not recalled; it is delivered (or retried) before the outcome, which is read in a later pass.
    /// </summary>
    public long Add(string jobId, OutboxKind kind, string body, long createdAtMs)
    {
        lock (_gate)
        {
            using var tx = _connection.BeginTransaction();
            if (kind is OutboxKind.Complete or OutboxKind.Fail)
            {
                using var drop = _connection.CreateCommand();
                drop.Transaction = tx;
                drop.CommandText = "DELETE FROM outbox WHERE job_id = $job AND kind = $status;";
                drop.Parameters.AddWithValue("$job", jobId);
                drop.Parameters.AddWithValue("$status", nameof(OutboxKind.Status));
                drop.ExecuteNonQuery();
            }
            using var command = _connection.CreateCommand();
            command.Transaction = tx;
            command.CommandText = "INSERT INTO outbox (job_id, kind, body, created_at_ms) VALUES ($job, $kind, $body, $at) RETURNING id;";
            command.Parameters.AddWithValue("$job", jobId);
            command.Parameters.AddWithValue("$kind", kind.ToString());
            command.Parameters.AddWithValue("$body", body);
            command.Parameters.AddWithValue("$at", createdAtMs);
            var id = (long)command.ExecuteScalar()!;
            tx.Commit();
            return id;
        }
    }

    /// <summary>Whether message <paramref name="id"/> is still pending (not delivered, dropped or replaced).</summary>
    public bool Contains(long id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $id);";
            command.Parameters.AddWithValue("$id", id);
            return (long)command.ExecuteScalar()! == 1;
        }
    }

    /// <summary>The oldest pending message, or null when the outbox is empty.</summary>
    public OutboxMessage? Oldest()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, job_id, kind, body, created_at_ms FROM outbox ORDER BY id LIMIT 1;";
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? new OutboxMessage(reader.GetInt64(0), reader.GetString(1), Enum.Parse<OutboxKind>(reader.GetString(2)), reader.GetString(3), reader.GetInt64(4))
                : null;
        }
    }

    /// <summary>The <paramref name="limit"/> oldest pending messages, oldest first.</summary>
    public IReadOnlyList<OutboxMessage> Oldest(int limit)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, job_id, kind, body, created_at_ms FROM outbox ORDER BY id LIMIT $limit;";
            command.Parameters.AddWithValue("$limit", limit);
            using var reader = command.ExecuteReader();
            var messages = new List<OutboxMessage>();
            while (reader.Read())
            {
                messages.Add(new OutboxMessage(reader.GetInt64(0), reader.GetString(1), Enum.Parse<OutboxKind>(reader.GetString(2)), reader.GetString(3), reader.GetInt64(4)));
            }
            return messages;
        }
    }

    /// <summary>Every pending message, oldest first.</summary>
    public IReadOnlyList<OutboxMessage> Pending()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, job_id, kind, body, created_at_ms FROM outbox ORDER BY id;";
            using var reader = command.ExecuteReader();
            var messages = new List<OutboxMessage>();
            while (reader.Read())
            {
                messages.Add(new OutboxMessage(reader.GetInt64(0), reader.GetString(1), Enum.Parse<OutboxKind>(reader.GetString(2)), reader.GetString(3), reader.GetInt64(4)));
            }
            return messages;
        }
    }

    public void Remove(long id)
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "DELETE FROM outbox WHERE id = $id;";
            command.Parameters.AddWithValue("$id", id);
            command.ExecuteNonQuery();
        }
    }

    public long Count()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM outbox;";
            return (long)command.ExecuteScalar()!;
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}
