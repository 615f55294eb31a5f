namespace Aitbc.Load.Tests;

/// <summary>The run's share of the coordinator's metrics: what the scrape after gained over the scrape before.</summary>
public sealed class MetricsDeltaTests
{
    private const string Before = """
        # HELP aitbc_coordinator_job_submissions_total POST /v1/jobs by outcome.
        # TYPE aitbc_coordinator_job_submissions_total counter
        aitbc_coordinator_job_submissions_total{outcome="accepted"} 500
        # HELP aitbc_coordinator_submission_stage_seconds Time per stage.
        # TYPE aitbc_coordinator_submission_stage_seconds histogram
        aitbc_coordinator_submission_stage_seconds_sum{stage="sign"} 0.25
        aitbc_coordinator_submission_stage_seconds_count{stage="sign"} 20
        aitbc_coordinator_submission_stage_seconds_bucket{stage="sign",le="0.001"} 12
        # HELP aitbc_coordinator_queue_depth Jobs waiting.
        # TYPE aitbc_coordinator_queue_depth gauge
        aitbc_coordinator_queue_depth 40
        aitbc_coordinator_jobs_cancelled_total 3
        """;

    private const string After = """
        # HELP aitbc_coordinator_job_submissions_total POST /v1/jobs by outcome.
        # TYPE aitbc_coordinator_job_submissions_total counter
        aitbc_coordinator_job_submissions_total{outcome="accepted"} 4500
        aitbc_coordinator_job_submissions_total{outcome="refused"} 2
        # HELP aitbc_coordinator_submission_stage_seconds Time per stage.
        # TYPE aitbc_coordinator_submission_stage_seconds histogram
        aitbc_coordinator_submission_stage_seconds_sum{stage="sign"} 1.75
        aitbc_coordinator_submission_stage_seconds_count{stage="sign"} 170
        aitbc_coordinator_submission_stage_seconds_bucket{stage="sign",le="0.001"} 12
        # HELP aitbc_coordinator_queue_depth Jobs waiting.
        # TYPE aitbc_coordinator_queue_depth gauge
        aitbc_coordinator_queue_depth 4040
        aitbc_coordinator_jobs_cancelled_total 3
        """;

    [Fact]
    public void Counters_and_histograms_show_what_the_run_added_and_gauges_their_value_at_its_end()
    {
        Assert.Equal(
        [
            "aitbc_coordinator_job_submissions_total{outcome=\"accepted\"} 4000",
            "aitbc_coordinator_job_submissions_total{outcome=\"refused\"} 2",
            "aitbc_coordinator_submission_stage_seconds_sum{stage=\"sign\"} 1.5",
            "aitbc_coordinator_submission_stage_seconds_count{stage=\"sign\"} 150",
            "aitbc_coordinator_queue_depth 4040",
        ], MetricsDelta.Between(Before, After));
    }

    [Fact]
    public void Nothing_is_shown_for_a_run_that_changed_nothing()
    {
        Assert.Empty(MetricsDelta.Between(Before, Before.Replace("aitbc_coordinator_queue_depth 40", "aitbc_coordinator_queue_depth 0", StringComparison.Ordinal)));
    }
}
