using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Storage;
using Microsoft.Data.Sqlite;

namespace Aitbc.Load;

/// <summary>What the seeded coordinator database holds that the scale run reads back.</summary>
public sealed record ScaleJobSeed(long Jobs, IReadOnlyList<(string Id, long SubmittedAt)> BenchClientJobs, IReadOnlyList<string> ReceiptIds, double Seconds);

/// <summary>
/// Fills a running coordinator's SQLite database with N historical jobs, fast: batched transactions of prepared
/// INSERTs on the database file (the schema is the coordinator's own, made by its migrations when it started), not
/// HTTP. Every row is a copy of a job that went through the real path just before (its job, receipt and outbox rows,
/// whatever columns the schema has by then) with new ids, times, client and status: 90 % completed (receipt,
/// submit_job and record_receipt committed), 6 % failed and 4 % cancelled (submit_job and refund_job committed).
/// The bench client owns one job in ten, 999 other clients the rest, so lists walk a client's own index, not the table.
/// </summary>
public static class ScaleJobs
{
    private const int Batch = 20_000;
    private const int OtherClients = 999;

    public static ScaleJobSeed Seed(string databasePath, string templateJobId, string benchClientAddress, long jobs, long chainHeight, TextWriter log)
    {
        var started = Stopwatch.GetTimestamp();
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, DefaultTimeout = 60 }.ToString());
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout = 60000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;");
        var job = ReadRow(connection, "SELECT * FROM jobs WHERE id = $id", templateJobId);
        var receipt = ReadRow(connection, "SELECT * FROM receipts WHERE job_id = $id", templateJobId);
        var submitRow = ReadRow(connection, "SELECT * FROM outbox WHERE job_id = $id AND kind = 'submit_job'", templateJobId);
        var receiptRow = ReadRow(connection, "SELECT * FROM outbox WHERE job_id = $id AND kind = 'record_receipt'", templateJobId);
        submitRow.Remove("id");
        receiptRow.Remove("id");
        var templateReceiptId = (string)receipt["id"]!;
        var benchKeyId = (string)job["key_id"]!;
        var templateClient = (string)job["client_address"]!;

        // Other clients' keys: the jobs' key_id must name a key (foreign key), though nobody will present these.
        var others = Enumerable.Range(0, OtherClients).Select(i => (KeyId: $"seed{i:D4}", Address: FakeAddress(i))).ToArray();
        using (var tx = connection.BeginTransaction())
        {
            var key = ReadRow(connection, "SELECT * FROM api_keys WHERE id = $id", benchKeyId, tx);
            using var insertKey = Insert(connection, tx, "api_keys", key.Keys);
            foreach (var (keyId, address) in others)
            {
                Bind(insertKey, key, new() { ["id"] = keyId, ["key_hash"] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)), ["address"] = address });
                insertKey.ExecuteNonQuery();
            }
            tx.Commit();
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var random = new Random(7);
        var benchIds = new List<(string, long)>();
        var receiptIds = new List<string>();
        var sampleEvery = Math.Max(1, jobs / 5_000);
        for (long from = 0; from < jobs; from += Batch)
        {
            using var tx = connection.BeginTransaction();
            using var insertJob = Insert(connection, tx, "jobs", job.Keys);
            using var insertReceipt = Insert(connection, tx, "receipts", receipt.Keys);
            using var insertOutbox = Insert(connection, tx, "outbox", submitRow.Keys);
            var to = Math.Min(jobs, from + Batch);
            var ended = new Dictionary<string, (long Jobs, long Paid)>(StringComparer.Ordinal);
            for (var n = from; n < to; n++)
            {
                var id = NewId("job_");
                var bench = n % 10 == 0;
                var (keyId, client) = bench ? (benchKeyId, benchClientAddress) : others[random.Next(others.Length)];
                // One job a second, ending a minute before now: the seeded history is older than anything the run adds.
                var submitted = now - 60_000 - ((jobs - n) * 1_000);
                var completedAt = submitted + 1_500 + random.Next(1_000);
                var roll = random.Next(100);
                var status = roll < 90 ? JobStatus.Completed : roll < 96 ? JobStatus.Failed : JobStatus.Cancelled;
                var receiptId = status == JobStatus.Completed ? NewId("rcpt_") : null;
                Bind(insertJob, job, new()
                {
                    ["id"] = id,
                    ["client_address"] = client,
                    ["key_id"] = keyId,
                    ["status"] = status,
                    ["submitted_at"] = submitted,
                    ["deadline_at"] = submitted + 600_000,
                    ["updated_at"] = completedAt,
                    ["assigned_at"] = status == JobStatus.Cancelled ? null : submitted + 5,
                    ["started_at"] = status == JobStatus.Cancelled ? null : submitted + 20,
                    ["completed_at"] = completedAt,
                    ["result"] = status == JobStatus.Completed ? job["result"] : null,
                    ["error"] = status == JobStatus.Failed ? "miner failed: backend returned 500" : status == JobStatus.Cancelled ? "cancelled by client" : null,
                    ["receipt_id"] = receiptId,
                    ["cost"] = status == JobStatus.Completed ? job["cost"] : null,
                    ["miner"] = status == JobStatus.Cancelled ? null : job["miner"],
                    ["price_per_second"] = status == JobStatus.Cancelled ? null : job["price_per_second"],
                    ["idempotency_key"] = null,
                });
                insertJob.ExecuteNonQuery();
                var (count, paid) = ended.GetValueOrDefault(status);
                ended[status] = (count + 1, paid + (status == JobStatus.Completed ? Convert.ToInt64(job["cost"], CultureInfo.InvariantCulture) : 0));
                var height = 1 + random.NextInt64(Math.Max(1, chainHeight));
                BindOutbox(insertOutbox, submitRow, id, templateJobId, submitted, height);
                insertOutbox.ExecuteNonQuery();
                if (receiptId is not null)
                {
                    Bind(insertReceipt, receipt, new()
                    {
                        ["id"] = receiptId,
                        ["job_id"] = id,
                        ["client"] = client,
                        ["issued_at"] = completedAt,
                        ["receipt_json"] = ((string)receipt["receipt_json"]!).Replace(templateJobId, id, StringComparison.Ordinal)
                            .Replace(templateReceiptId, receiptId, StringComparison.Ordinal).Replace(templateClient, client, StringComparison.Ordinal),
                    });
                    insertReceipt.ExecuteNonQuery();
                    BindOutbox(insertOutbox, receiptRow, id, templateJobId, completedAt, height);
                    insertOutbox.ExecuteNonQuery();
                    if (n % sampleEvery == 0)
                    {
                        receiptIds.Add(receiptId);
                    }
                }
                else
                {
                    var refund = OutboxRows.Refund(id, status == JobStatus.Failed ? "miner failed" : "cancelled by client", completedAt);
                    BindOutbox(insertOutbox, submitRow, id, templateJobId, completedAt, height);
                    insertOutbox.Parameters["$kind"].Value = refund.Kind;
                    insertOutbox.Parameters["$body_json"].Value = refund.BodyJson;
                    insertOutbox.ExecuteNonQuery();
                }
                if (bench && benchIds.Count < 20_000 && random.Next(Math.Max(1, (int)(jobs / 10 / 5_000))) == 0)
                {
                    benchIds.Add((id, submitted));
                }
            }
            // The coordinator keeps ended jobs counted as they end (job_totals); seeded ones are counted the same way.
            foreach (var (status, (count, paid)) in ended)
            {
                using var total = connection.CreateCommand();
                total.Transaction = tx;
                total.CommandText = "INSERT INTO job_totals (status, jobs, paid) VALUES ($s, $n, $p) "
                    + "ON CONFLICT (status) DO UPDATE SET jobs = job_totals.jobs + excluded.jobs, paid = job_totals.paid + excluded.paid";
                total.Parameters.AddWithValue("$s", status);
                total.Parameters.AddWithValue("$n", count);
                total.Parameters.AddWithValue("$p", paid);
                total.ExecuteNonQuery();
            }
            tx.Commit();
            if (to % 200_000 == 0 || to == jobs)
            {
                log.WriteLine($"jobs: {to:N0}/{jobs:N0} seeded, {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s");
            }
        }
        return new ScaleJobSeed(jobs, benchIds, receiptIds, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private static void BindOutbox(SqliteCommand insert, Dictionary<string, object?> template, string jobId, string templateJobId, long at, long height)
    {
        Bind(insert, template, new()
        {
            ["job_id"] = jobId,
            ["status"] = OutboxStatus.Committed,
            ["attempts"] = 1L,
            ["last_error"] = null,
            ["body_json"] = ((string)template["body_json"]!).Replace(templateJobId, jobId, StringComparison.Ordinal),
            ["tx_hash"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
            ["height"] = height,
            ["created_at"] = at,
            ["not_before"] = at,
            ["sent_at"] = at + 2,
            ["updated_at"] = at + 300,
        });
    }

    private static string NewId(string prefix)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<byte> bytes = stackalloc byte[26];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[26];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[bytes[i] & 31];
        }
        return prefix + new string(chars);
    }

    private static string FakeAddress(int i)
    {
        var payload = new byte[20];
        BitConverter.TryWriteBytes(payload, i);
        payload[19] = 0x5C;
        return Core.Address.FromPayload(payload).Value;
    }

    private static Dictionary<string, object?> ReadRow(SqliteConnection connection, string sql, string id, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.Parameters.AddWithValue("$id", id);
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidOperationException($"template row missing: {sql} ({id})");
        }
        var row = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < reader.FieldCount; i++)
        {
            row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
        }
        return row;
    }

    private static SqliteCommand Insert(SqliteConnection connection, SqliteTransaction tx, string table, IEnumerable<string> columns)
    {
        var names = columns.ToArray();
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = $"INSERT INTO {table} ({string.Join(", ", names)}) VALUES ({string.Join(", ", names.Select(c => "$" + c))})";
        foreach (var name in names)
        {
            command.Parameters.Add(new SqliteParameter("$" + name, null));
        }
        command.Prepare();
        return command;
    }

    private static void Bind(SqliteCommand command, Dictionary<string, object?> template, Dictionary<string, object?> overrides)
    {
        foreach (var (name, value) in template)
        {
            command.Parameters["$" + name].Value = (overrides.TryGetValue(name, out var o) ? o : value) ?? DBNull.Value;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
