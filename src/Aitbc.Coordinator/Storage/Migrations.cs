namespace Aitbc.Coordinator.Storage;

/// <summary>
/// The schema, as numbered steps applied once each and recorded in <c>schema_migrations</c>. The SQL keeps to what
/// SQLite and PostgreSQL share (TEXT, BIGINT, partial indexes; times as Unix milliseconds, amounts as integer uaitbc)
/// so both stores run the same steps; only <c>outbox.id</c>'s auto-numbering differs, written
/// <see cref="SqlDialect.IdentityPrimaryKey"/> and filled in by the dialect (<c>INTEGER PRIMARY KEY</c> on SQLite, the same
/// text as before, <c>BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY</c> on PostgreSQL).
/// </summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Name, string Sql)> Steps =
    [
        (1, "api keys, jobs, outbox", """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY,
                role TEXT NOT NULL CHECK (role IN ('client', 'miner', 'admin')),
                key_hash TEXT NOT NULL,
                address TEXT NULL,
                miner_pub_key TEXT NULL,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                client_address TEXT NOT NULL,
                key_id TEXT NOT NULL REFERENCES api_keys (id),
                status TEXT NOT NULL,
                model TEXT NOT NULL,
                prompt TEXT NOT NULL,
                options_json TEXT NOT NULL,
                max_price BIGINT NOT NULL,
                payload_hash TEXT NOT NULL,
                idempotency_key TEXT NULL,
                request_hash TEXT NULL,
                submitted_at BIGINT NOT NULL,
                started_at BIGINT NULL,
                completed_at BIGINT NULL,
                deadline_at BIGINT NOT NULL,
                result TEXT NULL,
                error TEXT NULL,
                receipt_id TEXT NULL,
                cost BIGINT NULL,
                updated_at BIGINT NOT NULL
            );
            -- NULL keys are distinct in both engines: jobs without Idempotency-Key never collide.
            CREATE UNIQUE INDEX ux_jobs_idempotency ON jobs (key_id, idempotency_key);
            CREATE INDEX ix_jobs_client ON jobs (client_address, submitted_at, id);
            -- The scheduler's queue and the deadline sweeps read jobs by status.
            CREATE INDEX ix_jobs_status ON jobs (status, submitted_at);
            CREATE TABLE outbox (
                id {identity_primary_key},
                job_id TEXT NOT NULL REFERENCES jobs (id),
                kind TEXT NOT NULL CHECK (kind IN ('submit_job', 'record_receipt', 'refund_job')),
                body_json TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'committed', 'refused')),
                attempts INTEGER NOT NULL,
                last_error TEXT NULL,
                nonce BIGINT NULL,
                tx_bytes TEXT NULL,
                tx_hash TEXT NULL,
                height BIGINT NULL,
                created_at BIGINT NOT NULL,
                not_before BIGINT NOT NULL,
                sent_at BIGINT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE INDEX ix_outbox_status ON outbox (status, id);
            CREATE INDEX ix_outbox_job ON outbox (job_id);
            -- A job's escrow closes once: never both a receipt and a refund, nor two of either, queued for one job.
            CREATE UNIQUE INDEX ux_outbox_settlement ON outbox (job_id) WHERE kind <> 'submit_job';
            """),
        (2, "miners, assignments, receipts", """
            CREATE TABLE miners (
                address TEXT PRIMARY KEY,
                pub_key TEXT NOT NULL,
                key_id TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                models_json TEXT NOT NULL,
                capacity INTEGER NOT NULL,
                in_flight INTEGER NOT NULL,
                price_per_second BIGINT NOT NULL,
                gpu_json TEXT NULL,
                gpu_utilization DOUBLE PRECISION NULL,
                registered_at BIGINT NOT NULL,
                last_seen BIGINT NOT NULL,
                reputation DOUBLE PRECISION NOT NULL,
                jobs_completed BIGINT NOT NULL,
                jobs_failed BIGINT NOT NULL,
                jobs_timed_out BIGINT NOT NULL
            );
            -- The assigned miner, when it took the job and the price per second it had then (what the receipt bills).
            ALTER TABLE jobs ADD COLUMN miner TEXT NULL;
            ALTER TABLE jobs ADD COLUMN assigned_at BIGINT NULL;
            ALTER TABLE jobs ADD COLUMN price_per_second BIGINT NULL;
            CREATE INDEX ix_jobs_miner ON jobs (miner, status);
            -- One receipt per job; completion_hash tells a retried /complete from a different one.
            CREATE TABLE receipts (
                id TEXT PRIMARY KEY,
                job_id TEXT NOT NULL UNIQUE REFERENCES jobs (id),
                miner TEXT NOT NULL,
                client TEXT NOT NULL,
                receipt_json TEXT NOT NULL,
                completion_hash TEXT NOT NULL,
                issued_at BIGINT NOT NULL
            );
            CREATE INDEX ix_receipts_issued ON receipts (issued_at, id);
            """),
        // Found by `aitbc-load scale`: the admin's job list (newest first, all statuses) had no index to walk, so each
        // page read and sorted the whole table (1.9 s at 60,000 jobs). Both listings now walk an index in their ORDER BY
        // (submitted_at, id), from the cursor, and stop after a page; the status index gains id for the same reason.
        (3, "job listings walk an index", """
            CREATE INDEX ix_jobs_submitted ON jobs (submitted_at, id);
            DROP INDEX ix_jobs_status;
            CREATE INDEX ix_jobs_status ON jobs (status, submitted_at, id);
            """),
        // Also found by `aitbc-load scale`: market stats (and every /metrics scrape) counted every job by status and summed
        // every completed job's cost, 184 ms at 60,000 jobs and growing with them. Jobs that ended are now counted as they
        // end, in the transaction that ends them (one row per terminal status); only unfinished jobs are counted live,
        // from the status index. The first upgrade fills the totals from the jobs already stored.
        (4, "totals of ended jobs", """
            CREATE TABLE job_totals (
                status TEXT PRIMARY KEY,
                jobs BIGINT NOT NULL,
                paid BIGINT NOT NULL
            );
            INSERT INTO job_totals (status, jobs, paid)
                SELECT status, COUNT(*), COALESCE(SUM(cost), 0) FROM jobs WHERE status IN ('completed', 'failed', 'cancelled') GROUP BY status;
            """),
        // Found by profiling a backlog (`scripts/profile-jobs.sh`): every scheduler pass looks for unfinished jobs past their
        // deadline, and the status index made that walk every pending job and read its row for deadline_at: with 70,000
        // queued jobs this was 40 % of the coordinator's CPU. Unfinished jobs now have their own index in deadline order,
        // so a pass reads only the jobs actually past it. The query repeats the index's condition word for word (literals,
        // not parameters): that is how SQLite and PostgreSQL know a partial index applies.
        (5, "unfinished jobs by deadline", """
            CREATE INDEX ix_jobs_unfinished_deadline ON jobs (deadline_at, id) WHERE status IN ('pending', 'assigned', 'running');
            """),
        // Found by profiling submissions (`scripts/profile-jobs.sh`): each signed row stored its wire bytes (≈600 bytes of
        // base64) before its broadcast, and SQLite rewrote a page for every few rows. Ed25519 is deterministic: the row's
        // body, nonce, the chain id and the coordinator's key give the very same bytes and hash again, so the nonce and
        // hash are all a row keeps; a redelivery signs again and checks the hash.
        (6, "outbox rows keep nonce and hash, not bytes", """
            ALTER TABLE outbox DROP COLUMN tx_bytes;
            """),
        // The scheduler runs apart from any request, so a job's assignment (and the miner's run under it) was a trace of
        // its own; the submitting request's trace context is kept with the job and the assignment continues it.
        (7, "jobs keep their submission's trace context", """
            ALTER TABLE jobs ADD COLUMN trace_parent TEXT NULL;
            """),
        // Escrow before work (docs/coordinator.md): a job is scheduled once its escrow is admitted to the mempool, but its
        // result reaches the client only once the escrow is in a block, when the writer sees it there. Jobs stored before
        // this step whose submit_job row was closed as executed (no note) or as already on chain count as seen then.
        (8, "results wait for the escrow's block", """
            ALTER TABLE jobs ADD COLUMN escrow_at BIGINT NULL;
            UPDATE jobs SET escrow_at = updated_at WHERE EXISTS (SELECT 1 FROM outbox o WHERE o.job_id = jobs.id AND o.kind = 'submit_job'
                AND o.status = 'committed' AND (o.last_error IS NULL OR o.last_error LIKE 'already done:%'));
            """),
    ];
}
