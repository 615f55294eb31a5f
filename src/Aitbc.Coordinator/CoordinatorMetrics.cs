using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Chain;
using Prometheus;

namespace Aitbc.Coordinator;

/// <summary>The coordinator's Prometheus metrics, in a registry of its own so several services can share a process (<c>aitbc up</c>, tests).</summary>
public sealed class CoordinatorMetrics
{
    private readonly Counter _submissions;
    private readonly Counter _cancellations;
    private readonly Counter _deliveries;
    private readonly Gauge _minersOnline;
    private readonly Gauge _queueDepth;
    private readonly Gauge _jobsByStatus;
    private readonly Counter _failures;
    private readonly Counter _completions;
    private readonly Histogram _submitToAssign;
    private readonly Histogram _completeToReceipt;
    private readonly Histogram _writerFlights;
    private readonly Histogram _writerStages;
    private readonly Gauge _writer;
    private readonly Counter _apiKeyLookups;
    private readonly Counter _longPollsRefused;

    public CoordinatorMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _submissions = factory.CreateCounter("aitbc_coordinator_job_submissions_total", "POST /v1/jobs by outcome.",
            new CounterConfiguration { LabelNames = ["outcome"] });
        _cancellations = factory.CreateCounter("aitbc_coordinator_jobs_cancelled_total", "Jobs cancelled by their owner.");
        _deliveries = factory.CreateCounter("aitbc_coordinator_outbox_deliveries_total", "Outbox delivery attempts by transaction kind and outcome.",
            new CounterConfiguration { LabelNames = ["kind", "outcome"] });
        _minersOnline = factory.CreateGauge("aitbc_coordinator_miners_online", "Miners heard from within three heartbeat intervals (at the last scheduler pass).");
        _queueDepth = factory.CreateGauge("aitbc_coordinator_queue_depth", "Pending jobs waiting for a miner (at the last scheduler pass, up to 200).");
        _jobsByStatus = factory.CreateGauge("aitbc_coordinator_jobs", "Jobs by status (read from the database at each scrape).",
            new GaugeConfiguration { LabelNames = ["status"] });
        _failures = factory.CreateCounter("aitbc_coordinator_jobs_failed_total", "Jobs failed by the coordinator or a miner, by reason.",
            new CounterConfiguration { LabelNames = ["reason"] });
        _completions = factory.CreateCounter("aitbc_coordinator_jobs_completed_total", "Jobs completed with a verified proof.");
        var buckets = Histogram.ExponentialBuckets(0.001, 2, 16);
        _writerFlights = factory.CreateHistogram("aitbc_coordinator_chain_writer_flight_size", "Outbox rows the chain writer signed, recorded and broadcast together (one transaction, one batch).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 9) });
        // The chain writer is the one path to the chain: when its stages' sum nears the wall time, it is what limits jobs/s.
        _writerStages = factory.CreateHistogram("aitbc_coordinator_chain_writer_stage_seconds",
            "Time the chain writer spends on each stage of a step: read (the due rows), sign, store (the signed rows marked sent), broadcast (the node's answer), record (the outcomes).",
            new HistogramConfiguration { LabelNames = ["stage"], Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });
        _apiKeyLookups = factory.CreateCounter("aitbc_coordinator_api_key_lookups_total",
            "API key rows read from the database, by outcome (found, unknown); held rows and ids known to be unknown are not read.",
            new CounterConfiguration { LabelNames = ["outcome"] });
        _longPollsRefused = factory.CreateCounter("aitbc_coordinator_long_polls_refused_total", "GET /v1/jobs/{id}?wait= refused (429) because its key had MaxLongPollsPerKey waiting.");
        _writer = factory.CreateGauge("aitbc_coordinator_chain_writer", "1 while this process holds the chain writer role of its coordinator key (coordinators sharing a database take turns), else 0.");
        _submitToAssign = factory.CreateHistogram("aitbc_coordinator_submit_to_assign_seconds", "From submission to a miner accepting the job.",
            new HistogramConfiguration { Buckets = buckets });
        _completeToReceipt = factory.CreateHistogram("aitbc_coordinator_complete_to_receipt_seconds", "From a completion accepted to its record_receipt committed on chain.",
            new HistogramConfiguration { Buckets = buckets });
    }

    public void ApiKeyLookup(bool found) => _apiKeyLookups.WithLabels(found ? "found" : "unknown").Inc();

    public void LongPollRefused() => _longPollsRefused.Inc();

    public void MinersOnline(int count) => _minersOnline.Set(count);

    public void WriterFlight(int size) => _writerFlights.Observe(size);

    public void Writer(bool held) => _writer.Set(held ? 1 : 0);

    /// <summary>Times one stage of the chain writer from <paramref name="startedAt"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) to now; returns now.</summary>
    public long WriterStage(string stage, long startedAt)
    {
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        _writerStages.WithLabels(stage).Observe(System.Diagnostics.Stopwatch.GetElapsedTime(startedAt, now).TotalSeconds);
        return now;
    }

    public void QueueDepth(int count) => _queueDepth.Set(count);

    public void JobsByStatus(IReadOnlyDictionary<string, long> counts)
    {
        foreach (var status in JobStatus.All)
        {
            _jobsByStatus.WithLabels(status).Set(counts.GetValueOrDefault(status));
        }
    }

    /// <summary>Counts a failure; the reason is one of a few fixed texts (miner-reported errors count as "miner").</summary>
    public void JobFailed(string reason) => _failures.WithLabels(reason).Inc();

    public void Completed() => _completions.Inc();

    public void Assigned(TimeSpan sinceSubmission) => _submitToAssign.Observe(sinceSubmission.TotalSeconds);

    public void ReceiptCommitted(TimeSpan sinceCompletion) => _completeToReceipt.Observe(sinceCompletion.TotalSeconds);

    public CollectorRegistry Registry { get; }

    /// <summary>Counts a submission: accepted, replayed, refused (by the chain) or invalid.</summary>
    public void Submission(string outcome) => _submissions.WithLabels(outcome).Inc();

    public void Cancelled() => _cancellations.Inc();

    public void OutboxDelivery(string kind, Delivery delivery) =>
        _deliveries.WithLabels(kind, delivery switch
        {
            Delivery.Sent => "sent",
            Delivery.Committed => "committed",
            Delivery.AlreadyDone => "already_done",
            Delivery.Refused => "refused",
            _ => "transient",
        }).Inc();
}
