using System.Text;
using System.Text.Json;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Core.Blocks;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using Microsoft.Data.Sqlite;

namespace Aitbc.Chain.Storage;

/// <summary>What the store knows about the chain's tip.</summary>
public sealed record ChainTip(long Height, string LastBlockHash, string LastBlockTime, string AppHash);

/// <summary>
/// Blocks, the transaction index and state in one SQLite file (WAL, synchronous=FULL). A block, its results and
/// its state changes commit in one database transaction, so after a crash the store holds whole blocks only.
/// </summary>
public sealed class ChainStore : IDisposable
{
    private readonly string _connectionString;
    private readonly SqliteConnection _writer;

    /// <summary>Transactions committed so far (meta <c>tx_count</c>), so that counting "every transaction above height h" is not a scan.</summary>
    private long _txCount;

    private ChainStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        _writer = new SqliteConnection(_connectionString);
        _writer.Open();
        Execute(_writer, """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=FULL;
            PRAGMA cache_size=-65536;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS blocks (
                height INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, header TEXT NOT NULL,
                signature TEXT NOT NULL, num_txs INTEGER NOT NULL, result_app_hash TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS txs (
                id INTEGER PRIMARY KEY, hash BLOB NOT NULL, tx BLOB NOT NULL,
                code INTEGER NOT NULL, log TEXT NOT NULL, events TEXT NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS txs_by_hash ON txs (hash);
            CREATE TABLE IF NOT EXISTS tx_events (key TEXT NOT NULL, value TEXT NOT NULL, tx_id INTEGER NOT NULL, PRIMARY KEY (key, value, tx_id)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS state (kind TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (kind, key)) WITHOUT ROWID;
            """);
        if (ReadMeta("tx_count") is { } stored)
        {
            _txCount = long.Parse(stored, System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            // A store from before tx_count was kept: counted once here, then kept by every commit.
            using var count = _writer.CreateCommand();
            count.CommandText = "SELECT count(*) FROM txs";
            _txCount = Convert.ToInt64(count.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
            using var transaction = _writer.BeginTransaction();
            WriteMeta(transaction, "tx_count", _txCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            transaction.Commit();
        }
    }

    /// <summary>Opens the store at <paramref name="path"/>, creating it (0600, its directory 0700) when missing.</summary>
    public static ChainStore Open(string path)
    {
        // Created here, not by SQLite, so that the file (and the -wal and -shm SQLite gives the same mode) is the owner's alone.
        Core.PrivateFiles.CreateFile(path);
        return new(path);
    }

    public static ChainStore OpenInDirectory(string dataDirectory) => Open(Path.Combine(dataDirectory, "chain.db"));

    public GenesisDocument? LoadGenesis()
    {
        var json = ReadMeta("genesis");
        return json is null ? null : GenesisDocument.Parse(json);
    }

    public ChainTip? LoadTip()
    {
        var height = ReadMeta("height");
        if (height is null)
        {
            return null;
        }
        return new ChainTip(long.Parse(height, System.Globalization.CultureInfo.InvariantCulture),
            ReadMeta("last_block_hash")!, ReadMeta("last_block_time")!, ReadMeta("app_hash")!);
    }

    public void LoadState(LedgerState state)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, key, value FROM state";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            state.Load(reader.GetString(0), reader.GetString(1), (byte[])reader.GetValue(2));
        }
    }

    public void CommitGenesis(GenesisDocument genesis, IReadOnlyList<StateChange> entries, ChainTip tip)
    {
        using var transaction = _writer.BeginTransaction();
        WriteMeta(transaction, "genesis", Encoding.UTF8.GetString(genesis.CanonicalBytes()));
        WriteState(transaction, entries);
        WriteTip(transaction, tip);
        transaction.Commit();
    }

    public void CommitBlock(Block block, IReadOnlyList<TxResult> results, IReadOnlyList<StateChange> changes, ChainTip tip)
    {
        using var transaction = _writer.BeginTransaction();
        using (var insertBlock = _writer.CreateCommand())
        {
            insertBlock.Transaction = transaction;
            insertBlock.CommandText = "INSERT INTO blocks (height, hash, header, signature, num_txs, result_app_hash) VALUES ($h, $hash, $header, $sig, $n, $app)";
            insertBlock.Parameters.AddWithValue("$h", block.Height);
            insertBlock.Parameters.AddWithValue("$hash", block.Hash);
            insertBlock.Parameters.AddWithValue("$header", Encoding.UTF8.GetString(block.Header.CanonicalBytes()));
            insertBlock.Parameters.AddWithValue("$sig", block.Signature);
            insertBlock.Parameters.AddWithValue("$n", block.Txs.Count);
            insertBlock.Parameters.AddWithValue("$app", tip.AppHash);
            insertBlock.ExecuteNonQuery();
        }
        using (var insertTx = _writer.CreateCommand())
        using (var insertEvent = _writer.CreateCommand())
        {
            insertTx.Transaction = transaction;
            insertTx.CommandText = "INSERT INTO txs (id, hash, tx, code, log, events) VALUES ($id, $hash, $tx, $code, $log, $events)";
            var pId = insertTx.Parameters.Add("$id", SqliteType.Integer);
            var pHash = insertTx.Parameters.Add("$hash", SqliteType.Blob);
            var pTx = insertTx.Parameters.Add("$tx", SqliteType.Blob);
            var pCode = insertTx.Parameters.Add("$code", SqliteType.Integer);
            var pLog = insertTx.Parameters.Add("$log", SqliteType.Text);
            var pEvents = insertTx.Parameters.Add("$events", SqliteType.Text);
            insertEvent.Transaction = transaction;
            insertEvent.CommandText = "INSERT OR IGNORE INTO tx_events (key, value, tx_id) VALUES ($k, $v, $id)";
            var eKey = insertEvent.Parameters.Add("$k", SqliteType.Text);
            var eValue = insertEvent.Parameters.Add("$v", SqliteType.Text);
            var eId = insertEvent.Parameters.Add("$id", SqliteType.Integer);
            for (var i = 0; i < block.Txs.Count; i++)
            {
                var id = TxId(block.Height, i);
                pId.Value = id;
                pHash.Value = Core.Crypto.Hashing.Sha256(block.Txs[i]);
                pTx.Value = block.Txs[i];
                pCode.Value = (long)results[i].Code;
                pLog.Value = results[i].Log;
                pEvents.Value = JsonSerializer.Serialize(results[i].Events, WireJson.Options);
                insertTx.ExecuteNonQuery();
                eId.Value = id;
                foreach (var e in results[i].Events)
                {
                    foreach (var attribute in e.Attributes.Where(a => a.Index))
                    {
                        eKey.Value = $"{e.Type}.{attribute.Key}";
                        eValue.Value = attribute.Value;
                        insertEvent.ExecuteNonQuery();
                    }
                }
            }
        }
        WriteState(transaction, changes);
        WriteTip(transaction, tip);
        var txCount = _txCount + block.Txs.Count;
        WriteMeta(transaction, "tx_count", txCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
        transaction.Commit();
        Volatile.Write(ref _txCount, txCount);
    }

    public (Block Block, string ResultAppHash)? GetBlock(long height)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT header, signature, result_app_hash FROM blocks WHERE height = $h";
        command.Parameters.AddWithValue("$h", height);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }
        using var headerJson = JsonDocument.Parse(reader.GetString(0));
        var header = BlockHeader.FromJson(headerJson.RootElement);
        var signature = reader.GetString(1);
        var resultAppHash = reader.GetString(2);
        reader.Close();
        using var txCommand = connection.CreateCommand();
        txCommand.CommandText = "SELECT tx FROM txs WHERE id BETWEEN $from AND $to ORDER BY id";
        txCommand.Parameters.AddWithValue("$from", TxId(height, 0));
        txCommand.Parameters.AddWithValue("$to", TxId(height, MaxTxsPerHeight - 1));
        using var txReader = txCommand.ExecuteReader();
        var txs = new List<byte[]>();
        while (txReader.Read())
        {
            txs.Add((byte[])txReader.GetValue(0));
        }
        return (new Block(header, txs, signature), resultAppHash);
    }

    public IReadOnlyList<IndexedTx> GetBlockTxs(long height)
    {
        using var connection = OpenReader();
        return GetBlockTxs(connection, height);
    }

    /// <summary>The first of <paramref name="hashes"/> (upper hex) already in the tx index, or null when none is.</summary>
    public string? FirstStoredTx(IEnumerable<string> hashes)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM txs WHERE hash = $hash";
        var pHash = command.Parameters.Add("$hash", SqliteType.Blob);
        foreach (var hash in hashes)
        {
            pHash.Value = Convert.FromHexString(hash);
            if (command.ExecuteScalar() is not null)
            {
                return hash;
            }
        }
        return null;
    }

    public IndexedTx? GetTx(string hash)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {TxColumns} FROM txs WHERE hash = $hash";
        if (hash.Length != 64 || !hash.All(char.IsAsciiHexDigit))
        {
            return null;
        }
        command.Parameters.AddWithValue("$hash", Convert.FromHexString(hash));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTx(reader) : null;
    }

    /// <summary>
    /// Hashes of transactions matching every condition (AND), in height order; conditions are event keys or tx.hash
    /// with <c>=</c>, or tx.height with <c>= &lt; &lt;= &gt; &gt;=</c>. Any other operator is refused with
    /// <see cref="ArgumentException"/> rather than read as <c>=</c>. With a <paramref name="budget"/>, the search stops
    /// with <see cref="ScanBudgetExceededException"/> once it has spent it (counting, sorting and skipping rows included).
    /// </summary>
    public (IReadOnlyList<IndexedTx> Page, int Total) SearchTxs(IReadOnlyList<(string Key, string Op, string Value)> conditions, int page, int perPage, bool descending, ScanBudget? budget = null)
    {
        foreach (var (key, op, _) in conditions)
        {
            if (key != "tx.height" && op != "=")
            {
                throw new ArgumentException($"operator '{op}' is not supported for {key}; only '=' is", nameof(conditions));
            }
        }
        using var connection = OpenReader();
        if (budget is null)
        {
            return SearchTxs(connection, conditions, page, perPage, descending);
        }
        var handle = connection.Handle!;
        // Returning non-zero interrupts the running statement (SQLITE_INTERRUPT): the query stops where it is.
        SQLitePCL.raw.sqlite3_progress_handler(handle, ScanBudget.InstructionsPerStep, _ => budget.TrySpend() ? 0 : 1, null);
        try
        {
            return SearchTxs(connection, conditions, page, perPage, descending);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == SQLitePCL.raw.SQLITE_INTERRUPT && budget.Exhausted)
        {
            throw new ScanBudgetExceededException(budget.Used);
        }
        finally
        {
            // The connection goes back to the pool: the next user must not inherit this budget.
            SQLitePCL.raw.sqlite3_progress_handler(handle, 0, null, null);
        }
    }

    private (IReadOnlyList<IndexedTx> Page, int Total) SearchTxs(SqliteConnection connection, IReadOnlyList<(string Key, string Op, string Value)> conditions, int page, int perPage, bool descending)
    {
        using var command = connection.CreateCommand();
        var where = new List<string>();
        for (var i = 0; i < conditions.Count; i++)
        {
            var (key, op, value) = conditions[i];
            if (key == "tx.height")
            {
                var height = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                where.Add(op switch
                {
                    "=" => $"t.id BETWEEN $v{i} AND $v{i} + {MaxTxsPerHeight - 1}",
                    "<" => $"t.id < $v{i}",
                    "<=" => $"t.id < $v{i} + {MaxTxsPerHeight}",
                    ">" => $"t.id >= $v{i} + {MaxTxsPerHeight}",
                    ">=" => $"t.id >= $v{i}",
                    _ => throw new ArgumentException($"unsupported operator {op}", nameof(conditions)),
                });
                command.Parameters.AddWithValue($"$v{i}", TxId(Math.Clamp(height, 0, MaxHeight), 0));
            }
            else if (key == "tx.hash")
            {
                where.Add($"t.hash = $v{i}");
                command.Parameters.AddWithValue($"$v{i}", value.Length == 64 && value.All(char.IsAsciiHexDigit) ? Convert.FromHexString(value) : []);
            }
            else
            {
                where.Add($"t.id IN (SELECT tx_id FROM tx_events WHERE key = $k{i} AND value = $v{i})");
                command.Parameters.AddWithValue($"$k{i}", key);
                command.Parameters.AddWithValue($"$v{i}", value);
            }
        }
        var filter = where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where);
        int total;
        if (conditions.All(c => c.Key == "tx.height" && c.Op is ">" or ">="))
        {
            // Only lower bounds on the height (the explorer's "tx.height>0"): everything committed less what lies below
            // the bound, so the count costs what lies below it, not the whole chain.
            var from = conditions.Select(c => TxId(Math.Clamp(long.Parse(c.Value, System.Globalization.CultureInfo.InvariantCulture), 0, MaxHeight) + (c.Op == ">" ? 1 : 0), 0))
                .DefaultIfEmpty(0).Max();
            var committed = Volatile.Read(ref _txCount);
            using var below = connection.CreateCommand();
            below.CommandText = "SELECT count(*) FROM txs WHERE id < $from";
            below.Parameters.AddWithValue("$from", from);
            total = (int)Math.Max(0, committed - Convert.ToInt64(below.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            command.CommandText = $"SELECT count(*) FROM txs t {filter}";
            total = Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
        }
        command.CommandText = $"SELECT {TxColumns} FROM txs t {filter} ORDER BY t.id {(descending ? "DESC" : "ASC")} LIMIT $limit OFFSET $offset";
        command.Parameters.AddWithValue("$limit", perPage);
        command.Parameters.AddWithValue("$offset", (long)(page - 1) * perPage);
        using var reader = command.ExecuteReader();
        var results = new List<IndexedTx>();
        while (reader.Read())
        {
            results.Add(ReadTx(reader));
        }
        return (results, total);
    }

    public IReadOnlyList<(BlockHeader Header, string Hash, int NumTxs)> GetBlockMetas(long minHeight, long maxHeight)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT header, hash, num_txs FROM blocks WHERE height BETWEEN $min AND $max ORDER BY height DESC";
        command.Parameters.AddWithValue("$min", minHeight);
        command.Parameters.AddWithValue("$max", maxHeight);
        using var reader = command.ExecuteReader();
        var metas = new List<(BlockHeader, string, int)>();
        while (reader.Read())
        {
            using var headerJson = JsonDocument.Parse(reader.GetString(0));
            metas.Add((BlockHeader.FromJson(headerJson.RootElement), reader.GetString(1), reader.GetInt32(2)));
        }
        return metas;
    }

    public void Dispose() => _writer.Dispose();

    private static IReadOnlyList<IndexedTx> GetBlockTxs(SqliteConnection connection, long height)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {TxColumns} FROM txs WHERE id BETWEEN $from AND $to ORDER BY id";
        command.Parameters.AddWithValue("$from", TxId(height, 0));
        command.Parameters.AddWithValue("$to", TxId(height, MaxTxsPerHeight - 1));
        using var reader = command.ExecuteReader();
        var txs = new List<IndexedTx>();
        while (reader.Read())
        {
            txs.Add(ReadTx(reader));
        }
        return txs;
    }

    private const string TxColumns = "id, hash, tx, code, log, events";

    /// <summary>A transaction's row id: height in the high bits, index in the block in the low 20, so rows append in chain order.</summary>
    private const int MaxTxsPerHeight = 1 << 20;
    private const long MaxHeight = long.MaxValue >> 21;

    private static long TxId(long height, int index) => (height << 20) | (long)index;

    private static IndexedTx ReadTx(SqliteDataReader reader)
    {
        var id = reader.GetInt64(0);
        var events = JsonSerializer.Deserialize<List<TxEvent>>(reader.GetString(5), WireJson.Options) ?? [];
        var result = new TxResult((TxCode)reader.GetInt64(3), reader.GetString(4), events);
        return new IndexedTx(Convert.ToHexString((byte[])reader.GetValue(1)), id >> 20, (int)(id & (MaxTxsPerHeight - 1)), (byte[])reader.GetValue(2), result);
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    private string? ReadMeta(string key)
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT value FROM meta WHERE key = $k";
        command.Parameters.AddWithValue("$k", key);
        return command.ExecuteScalar() as string;
    }

    private void WriteMeta(SqliteTransaction transaction, string key, string value)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO meta (key, value) VALUES ($k, $v)";
        command.Parameters.AddWithValue("$k", key);
        command.Parameters.AddWithValue("$v", value);
        command.ExecuteNonQuery();
    }

    private void WriteTip(SqliteTransaction transaction, ChainTip tip)
    {
        WriteMeta(transaction, "height", tip.Height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteMeta(transaction, "last_block_hash", tip.LastBlockHash);
        WriteMeta(transaction, "last_block_time", tip.LastBlockTime);
        WriteMeta(transaction, "app_hash", tip.AppHash);
    }

    private void WriteState(SqliteTransaction transaction, IReadOnlyList<StateChange> changes)
    {
        using var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT OR REPLACE INTO state (kind, key, value) VALUES ($kind, $key, $value)";
        var kind = command.Parameters.Add("$kind", SqliteType.Text);
        var key = command.Parameters.Add("$key", SqliteType.Text);
        var value = command.Parameters.Add("$value", SqliteType.Blob);
        foreach (var change in changes)
        {
            kind.Value = change.Kind;
            key.Value = change.Key;
            value.Value = change.Json;
            command.ExecuteNonQuery();
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
