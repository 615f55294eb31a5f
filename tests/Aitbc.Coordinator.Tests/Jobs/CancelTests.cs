using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Aitbc.Client.Node;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>Run on SQLite (<see cref="CancelTestsOnSqlite"/>) and on PostgreSQL (<see cref="CancelTestsOnPostgres"/>).</summary>
public abstract class CancelTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Cancel_refunds_the_escrow_on_chain_and_a_second_cancel_is_409()
    {
        using var client = await fixture.ClientAsync(10);
        var before = await fixture.BalanceAsync(client.Address);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "4"));
        await fixture.EscrowAsync(jobId);

        using var cancel = await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        using (var body = JsonDocument.Parse(await cancel.Content.ReadAsStringAsync()))
        {
            Assert.Equal("cancelled", body.RootElement.GetProperty("status").GetString());
        }

        var escrow = await fixture.EscrowAsync(jobId, EscrowStatus.Refunded);
        Assert.Equal(escrow.Amount, escrow.Refunded);
        Assert.Equal(before, await fixture.BalanceAsync(client.Address));
        await Poll.UntilAsync(async () => (await fixture.Coordinator.Store.OutboxForJobAsync(jobId, default)).All(r => r.Status == OutboxStatus.Committed && r.Height > 0));

        using var again = await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(2, (await fixture.Coordinator.Store.OutboxForJobAsync(jobId, default)).Count);
    }

    [Fact]
    public async Task A_long_poll_returns_as_soon_as_the_job_is_cancelled()
    {
        using var client = await fixture.ClientAsync(11);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "1"));

        var watch = Stopwatch.StartNew();
        var poll = client.GetJobAsync(jobId, "?wait=10");
        await Task.Delay(100);
        Assert.False(poll.IsCompleted);
        using var cancel = await client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);

        var job = await poll;
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.True(job.TryGetProperty("completed_at", out _));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"long poll took {watch.Elapsed}");
    }

    [Fact]
    public async Task A_long_poll_with_no_change_answers_the_job_when_the_wait_ends()
    {
        // A coordinator on a fake clock, so the wait's end is driven by the test, not slept through.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var dataDir = TempDir.Create("fake-clock");
        try
        {
            var key = fixture.Node.Coordinators[2];
            await using var coordinator = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir) with { Time = time });
            using var client = await fixture.ClientAsync(18, coordinator: coordinator, coordinatorKey: key);
            var jobId = await client.SubmitOkAsync(Bodies.Flat(maxPrice: "1"));

            var start = time.GetUtcNow();
            var poll = client.GetJobAsync(jobId, "?wait=10");
            for (var i = 0; i < 100 && !poll.IsCompleted; i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.WhenAny(poll, Task.Delay(20));
            }
            var job = await poll;
            Assert.Equal("pending", job.GetProperty("status").GetString());
            Assert.True(time.GetUtcNow() - start >= TimeSpan.FromSeconds(10), "the poll answered before its wait was over");

            Assert.Equal(HttpStatusCode.BadRequest, (await client.Http.GetAsync($"v1/jobs/{jobId}?wait=11")).StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, (await client.Http.GetAsync($"v1/jobs/{jobId}?wait=soon")).StatusCode);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class CancelTestsOnSqlite(CoordinatorFixture fixture) : CancelTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class CancelTestsOnPostgres(PostgresCoordinatorFixture fixture) : CancelTests(fixture);
