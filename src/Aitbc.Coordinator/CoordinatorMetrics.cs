using Aitbc.Coordinator.Chain;
using Prometheus;

namespace Aitbc.Coordinator;

/// <summary>The coordinator's Prometheus metrics, in a registry of its own so several services can share a process (<c>aitbc up</c>, tests).</summary>
public sealed class CoordinatorMetrics
{
    private readonly Counter _submissions;
    private readonly Counter _cancellations;
    private readonly Counter _deliveries;

    public CoordinatorMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        _submissions = factory.CreateCounter("aitbc_coordinator_job_submissions_total", "POST /v1/jobs by outcome.",
            new CounterConfiguration { LabelNames = ["outcome"] });
        _cancellations = factory.CreateCounter("aitbc_coordinator_jobs_cancelled_total", "Jobs cancelled by their owner.");
        _deliveries = factory.CreateCounter("aitbc_coordinator_outbox_deliveries_total", "Outbox delivery attempts by transaction kind and outcome.",
            new CounterConfiguration { LabelNames = ["kind", "outcome"] });
    }

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
