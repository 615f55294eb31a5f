using System.Net;
using System.Text.Json;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>
/// Submissions escrowed as one flight of the chain writer (one transaction of signed rows, one batch of broadcasts). Each
/// test makes the flight it wants by holding the writer while the submissions are stored, then letting it take them all.
/// Run on SQLite (<see cref="SubmitGroupTestsOnSqlite"/>) and on PostgreSQL (<see cref="SubmitGroupTestsOnPostgres"/>).
/// </summary>
public abstract class SubmitGroupTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_refused_escrow_in_the_middle_of_a_group_fails_alone_and_the_others_get_consecutive_nonces()
    {
        using var payer = await fixture.ClientAsync(53);
        using var broke = await fixture.ClientAsync(54, allowance: "0");
        var payerBefore = await fixture.BalanceAsync(payer.Address);

        var responses = await InOneGroupAsync(fixture.Coordinator,
            () => payer.SubmitAsync(Bodies.Flat(prompt: "first", maxPrice: "1")),
            () => payer.SubmitAsync(Bodies.Flat(prompt: "second", maxPrice: "1")),
            () => broke.SubmitAsync(Bodies.Flat(prompt: "refused", maxPrice: "1")),
            () => payer.SubmitAsync(Bodies.Flat(prompt: "fourth", maxPrice: "1")),
            () => payer.SubmitAsync(Bodies.Flat(prompt: "fifth", maxPrice: "1")));

        Assert.Equal(HttpStatusCode.PaymentRequired, responses[2].Status);
        var accepted = responses.Where((_, i) => i != 2).ToList();
        Assert.All(accepted, r => Assert.Equal(HttpStatusCode.Created, r.Status));
        var jobIds = accepted.Select(r => r.JobId!).ToList();

        // Each accepted escrow was admitted during the request (the jobs after the refusal re-signed at once, not left to
        // the outbox worker), with nonces that follow one another: the refused one left no gap.
        var rows = new List<OutboxRecord>();
        foreach (var jobId in jobIds)
        {
            rows.Add(Assert.Single(await fixture.Coordinator.Store.OutboxForJobAsync(jobId, default)));
        }
        Assert.All(rows, r => Assert.True(r.Status is OutboxStatus.Sent or OutboxStatus.Committed, $"row {r.Id} is {r.Status}: {r.LastError}"));
        var nonces = rows.OrderBy(r => r.Id).Select(r => r.Nonce!.Value).ToList();
        Assert.Equal(Enumerable.Range(0, nonces.Count).Select(i => nonces[0] + (ulong)i), nonces);

        foreach (var jobId in jobIds)
        {
            await fixture.EscrowAsync(jobId);
        }
        Assert.Equal(payerBefore - Amount.ParseAitbc("4"), await fixture.BalanceAsync(payer.Address));
        using var brokeJobs = JsonDocument.Parse(await broke.Http.GetStringAsync("v1/jobs"));
        Assert.Empty(brokeJobs.RootElement.GetProperty("jobs").EnumerateArray());
    }

    [Fact]
    public async Task Two_submissions_with_one_idempotency_key_in_a_group_make_one_job()
    {
        using var client = await fixture.ClientAsync(56);
        var before = await fixture.BalanceAsync(client.Address);
        var body = Bodies.Flat(prompt: "once", maxPrice: "2");

        var responses = await InOneGroupAsync(fixture.Coordinator,
            () => client.SubmitAsync(body, "group-key"),
            () => client.SubmitAsync(Bodies.Flat(prompt: "other", maxPrice: "1")),
            () => client.SubmitAsync(body, "group-key"),
            () => client.SubmitAsync(Bodies.Flat(prompt: "a different body"), "group-key"));

        Assert.Equal(HttpStatusCode.Created, responses[0].Status);
        Assert.Equal(HttpStatusCode.Created, responses[1].Status);
        Assert.Equal(HttpStatusCode.Created, responses[2].Status);
        Assert.Equal(responses[0].JobId, responses[2].JobId);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, responses[3].Status);

        Assert.Single(await fixture.Coordinator.Store.OutboxForJobAsync(responses[0].JobId!, default));
        await fixture.EscrowAsync(responses[0].JobId!);
        await fixture.EscrowAsync(responses[1].JobId!);
        Assert.Equal(before - Amount.ParseAitbc("3"), await fixture.BalanceAsync(client.Address));
    }

    [Fact]
    public async Task A_group_broadcast_during_a_node_outage_is_accepted_and_each_escrow_is_locked_once_when_the_node_is_back()
    {
        var key = fixture.OwnKey;
        var dataDir = TempDir.Create("group-outage");
        await using var proxy = await SwitchableNodeProxy.StartAsync(fixture.Node.Url);
        try
        {
            await using var coordinator = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(key, dataDir) with { NodeUrl = proxy.Url });
            using var client = await fixture.ClientAsync(57, coordinator: coordinator, coordinatorKey: key);
            // One submission first, so the coordinator knows its nonce and can sign while the node is down.
            var warm = await client.SubmitOkAsync(Bodies.Flat(prompt: "warm", maxPrice: "1"));
            await fixture.EscrowAsync(warm);
            var before = await fixture.BalanceAsync(client.Address);
            var nonceBefore = (await fixture.Chain.GetAccountAsync(key.Address)).Nonce;

            proxy.Down = true;
            var responses = await InOneGroupAsync(coordinator,
                () => client.SubmitAsync(Bodies.Flat(prompt: "a", maxPrice: "1")),
                () => client.SubmitAsync(Bodies.Flat(prompt: "b", maxPrice: "1")),
                () => client.SubmitAsync(Bodies.Flat(prompt: "c", maxPrice: "1")));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.Status));
            foreach (var response in responses)
            {
                var row = Assert.Single(await coordinator.Store.OutboxForJobAsync(response.JobId!, default));
                Assert.Equal(OutboxStatus.Pending, row.Status);
                Assert.NotNull(row.TxHash);
            }

            proxy.Down = false;
            foreach (var response in responses)
            {
                await fixture.EscrowAsync(response.JobId!);
            }
            await Poll.UntilAsync(async () => (await Task.WhenAll(responses.Select(r => coordinator.Store.OutboxForJobAsync(r.JobId!, default))))
                .All(rows => rows.Single().Status == OutboxStatus.Committed));
            Assert.Equal(before - Amount.ParseAitbc("3"), await fixture.BalanceAsync(client.Address));
            Assert.Equal(nonceBefore + 3, (await fixture.Chain.GetAccountAsync(key.Address)).Nonce);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task Submissions_stored_while_a_flight_is_at_the_node_go_in_the_next_flight_with_the_nonces_after_it()
    {
        await using var gated = await GatedCoordinatorAsync("overlap");
        using var client = await fixture.ClientAsync(20, coordinator: gated.Coordinator, coordinatorKey: fixture.OwnKey);
        var before = await fixture.BalanceAsync(client.Address);

        gated.Proxy.HoldBroadcasts();
        var first = await InFlightAsync(gated, () => client.SubmitAsync(Bodies.Flat(prompt: "first", maxPrice: "1")));
        var second = await StoredAsync(gated, 2,
            () => client.SubmitAsync(Bodies.Flat(prompt: "second", maxPrice: "1")),
            () => client.SubmitAsync(Bodies.Flat(prompt: "third", maxPrice: "1")));
        // Handed to the writer while the first flight waits at the node's door, and not signed: it signs one flight at a time.
        Assert.Equal(2, gated.Coordinator.App.Services.GetRequiredService<ChainWriter>().HandedWaiting);
        Assert.Equal(1, gated.Proxy.BroadcastsWaiting);

        gated.Proxy.ReleaseBroadcasts();
        var answers = await AnswersAsync([.. first, .. second]);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        var rows = new List<OutboxRecord>();
        foreach (var answer in answers)
        {
            rows.Add(Assert.Single(await gated.Coordinator.Store.OutboxForJobAsync(answer.JobId!, default)));
            await fixture.EscrowAsync(answer.JobId!);
        }
        var nonces = rows.OrderBy(r => r.Id).Select(r => r.Nonce!.Value).ToList();
        Assert.Equal(Enumerable.Range(0, 3).Select(i => nonces[0] + (ulong)i), nonces);
        Assert.Equal(before - Amount.ParseAitbc("3"), await fixture.BalanceAsync(client.Address));
    }

    [Fact]
    public async Task A_refusal_in_a_flight_leaves_no_gap_for_the_flight_after_it()
    {
        await using var gated = await GatedCoordinatorAsync("overlap-refused");
        using var payer = await fixture.ClientAsync(21, coordinator: gated.Coordinator, coordinatorKey: fixture.OwnKey);
        using var broke = await fixture.ClientAsync(22, allowance: "0", coordinator: gated.Coordinator, coordinatorKey: fixture.OwnKey);
        var before = await fixture.BalanceAsync(payer.Address);

        gated.Proxy.HoldBroadcasts();
        var first = await InFlightAsync(gated,
            () => payer.SubmitAsync(Bodies.Flat(prompt: "a", maxPrice: "1")),
            () => broke.SubmitAsync(Bodies.Flat(prompt: "refused", maxPrice: "1")),
            () => payer.SubmitAsync(Bodies.Flat(prompt: "c", maxPrice: "1")));
        var second = await StoredAsync(gated, 2,
            () => payer.SubmitAsync(Bodies.Flat(prompt: "d", maxPrice: "1")),
            () => payer.SubmitAsync(Bodies.Flat(prompt: "e", maxPrice: "1")));

        gated.Proxy.ReleaseBroadcasts();
        var answers = await AnswersAsync([.. first, .. second]);
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.PaymentRequired, HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.Created],
            answers.Select(a => a.Status));
        // The refusal took one nonce back: the job after it in its flight was signed again at once, and the next flight
        // was signed from the nonce the chain wanted after that; every escrow was admitted during its request.
        var rows = new List<OutboxRecord>();
        foreach (var answer in answers.Where(a => a.JobId is not null))
        {
            rows.Add(Assert.Single(await gated.Coordinator.Store.OutboxForJobAsync(answer.JobId!, default)));
        }
        Assert.All(rows, r => Assert.True(r.Status is OutboxStatus.Sent or OutboxStatus.Committed, $"row {r.Id} is {r.Status}: {r.LastError}"));
        var nonces = rows.OrderBy(r => r.Id).Select(r => r.Nonce!.Value).ToList();
        Assert.Equal(Enumerable.Range(0, nonces.Count).Select(i => nonces[0] + (ulong)i), nonces);
        foreach (var row in rows)
        {
            await fixture.EscrowAsync(row.JobId);
        }
        Assert.Equal(before - Amount.ParseAitbc("4"), await fixture.BalanceAsync(payer.Address));
    }

    [Fact]
    public async Task A_retry_whose_key_is_in_flight_waits_for_its_outcome_instead_of_replaying_a_job_that_is_then_refused()
    {
        await using var gated = await GatedCoordinatorAsync("overlap-key");
        using var payer = await fixture.ClientAsync(23, coordinator: gated.Coordinator, coordinatorKey: fixture.OwnKey);
        using var broke = await fixture.ClientAsync(25, allowance: "0", coordinator: gated.Coordinator, coordinatorKey: fixture.OwnKey);
        var decisions = gated.Coordinator.App.Services.GetRequiredService<SubmitDecisions>();
        var paid = Bodies.Flat(prompt: "paid", maxPrice: "1");
        var unpaid = Bodies.Flat(prompt: "unpaid", maxPrice: "1");

        gated.Proxy.HoldBroadcasts();
        var first = await InFlightAsync(gated, () => payer.SubmitAsync(paid, "paid-key"), () => broke.SubmitAsync(unpaid, "unpaid-key"));
        var retries = new[] { payer.SubmitAsync(paid, "paid-key"), broke.SubmitAsync(unpaid, "unpaid-key") };
        // The retries found their keys' jobs still undecided and wait for them: no new job, no new row.
        await Poll.UntilAsync(() => Task.FromResult(retries.All(r => !r.IsCompleted) && decisions.Waiting == 2));
        Assert.Equal(2, (await gated.Coordinator.Store.DueOutboxAsync(long.MaxValue, 10, default)).Count);

        gated.Proxy.ReleaseBroadcasts();
        var answers = await AnswersAsync([.. first, .. retries]);
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.PaymentRequired, HttpStatusCode.Created, HttpStatusCode.PaymentRequired], answers.Select(a => a.Status));
        Assert.Equal(answers[0].JobId, answers[2].JobId);
        using var brokeJobs = JsonDocument.Parse(await broke.Http.GetStringAsync("v1/jobs"));
        Assert.Empty(brokeJobs.RootElement.GetProperty("jobs").EnumerateArray());
    }

    /// <summary>A coordinator of its own whose node calls go through a proxy that can hold broadcasts, with its nonce already known.</summary>
    private async Task<GatedCoordinator> GatedCoordinatorAsync(string name)
    {
        var dataDir = TempDir.Create(name);
        var proxy = await SwitchableNodeProxy.StartAsync(fixture.Node.Url);
        var coordinator = await RunningCoordinator.StartAsync(await fixture.OptionsForAsync(fixture.OwnKey, dataDir) with { NodeUrl = proxy.Url });
        return new GatedCoordinator(proxy, coordinator, dataDir);
    }

    private sealed record GatedCoordinator(SwitchableNodeProxy Proxy, RunningCoordinator Coordinator, string DataDir) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Proxy.ReleaseBroadcasts();
            await Coordinator.DisposeAsync();
            await Proxy.DisposeAsync();
            TempDir.Delete(DataDir);
        }
    }

    /// <summary>Starts <paramref name="submissions"/> as one group and waits until its broadcast is held at the proxy.</summary>
    private static async Task<List<Task<HttpResponseMessage>>> InFlightAsync(GatedCoordinator gated, params Func<Task<HttpResponseMessage>>[] submissions)
    {
        var sent = await StartInOneGroupAsync(gated.Coordinator, submissions);
        await Poll.UntilAsync(() => Task.FromResult(gated.Proxy.BroadcastsWaiting == 1));
        return sent;
    }

    /// <summary>Starts <paramref name="submissions"/> while a flight is out, and waits until <paramref name="count"/> new jobs wait for the writer's next flight.</summary>
    private static async Task<List<Task<HttpResponseMessage>>> StoredAsync(GatedCoordinator gated, int count, params Func<Task<HttpResponseMessage>>[] submissions)
    {
        var sent = submissions.Select(submit => submit()).ToList();
        var writer = gated.Coordinator.App.Services.GetRequiredService<ChainWriter>();
        await Poll.UntilAsync(() => Task.FromResult(writer.HandedWaiting == count));
        return sent;
    }

    /// <summary>
    /// Starts the submissions in order while the chain writer is held, waiting for each to be stored before starting the
    /// next, then lets the writer go: it takes them all, in this order, as one flight.
    /// </summary>
    private static async Task<IReadOnlyList<(HttpStatusCode Status, string? JobId)>> InOneGroupAsync(RunningCoordinator coordinator, params Func<Task<HttpResponseMessage>>[] submissions) =>
        await AnswersAsync(await StartInOneGroupAsync(coordinator, submissions));

    private static async Task<List<Task<HttpResponseMessage>>> StartInOneGroupAsync(RunningCoordinator coordinator, Func<Task<HttpResponseMessage>>[] submissions)
    {
        var writer = coordinator.App.Services.GetRequiredService<ChainWriter>();
        var service = coordinator.App.Services.GetRequiredService<JobService>();
        var sent = new List<Task<HttpResponseMessage>>();
        using (await writer.HoldAsync(default))
        {
            foreach (var submit in submissions)
            {
                sent.Add(submit());
                // Stored and waiting for the writer (or a retry waiting on its key's job), or answered without it.
                await Poll.UntilAsync(() => Task.FromResult(service.AwaitingDecision + sent.Count(t => t.IsCompleted) == sent.Count));
            }
        }
        return sent;
    }

    private static async Task<IReadOnlyList<(HttpStatusCode Status, string? JobId)>> AnswersAsync(IEnumerable<Task<HttpResponseMessage>> sent)
    {
        var answers = new List<(HttpStatusCode, string?)>();
        foreach (var response in await Task.WhenAll(sent))
        {
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync();
                string? jobId = null;
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    using var body = JsonDocument.Parse(text);
                    jobId = body.RootElement.GetProperty("job_id").GetString();
                }
                answers.Add((response.StatusCode, jobId));
            }
        }
        return answers;
    }
}

[Collection(CoordinatorCollection.Name)]
public sealed class SubmitGroupTestsOnSqlite(CoordinatorFixture fixture) : SubmitGroupTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class SubmitGroupTestsOnPostgres(PostgresCoordinatorFixture fixture) : SubmitGroupTests(fixture);
