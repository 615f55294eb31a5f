using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Scheduling;

/// <summary>
/// One job, one trace: the scheduler runs apart from any request, so the job's assignment continues the trace of the
/// request that submitted it (kept with the job), and the chain writer's flight links to it.
/// </summary>
public abstract class JobTraceTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_jobs_assignment_continues_the_trace_of_the_request_that_submitted_it()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == CoordinatorTracing.Source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var client = await fixture.ClientAsync(72);
        await using var miner = await FakeMiner.StartAsync(fixture, 73, "traced-model");

        var traceId = ActivityTraceId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/jobs")
        {
            Content = new StringContent(Bodies.Flat(prompt: "traced", model: "traced-model"), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        using var response = await client.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var accepted = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var jobId = accepted.RootElement.GetProperty("job_id").GetString();

        Activity? assign = null;
        await Poll.UntilAsync(() => Task.FromResult((assign = stopped.FirstOrDefault(a => a.OperationName == "job assign" && (string?)a.GetTagItem("aitbc.job_id") == jobId)) is not null));
        Assert.Equal(traceId, assign!.TraceId);
        Assert.Contains(stopped, a => a.OperationName == "job submit" && a.TraceId == traceId);
        Assert.Contains(stopped, a => a.OperationName == "chain flight" && a.Links.Any(link => link.Context.TraceId == traceId));
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class JobTraceTestsOnSqlite(CoordinatorFixture fixture) : JobTraceTests(fixture);
