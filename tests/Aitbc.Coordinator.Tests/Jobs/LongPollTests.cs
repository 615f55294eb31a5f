using System.Net;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Jobs;

[Collection(CoordinatorCollection.Name)]
public sealed class LongPollTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_key_holding_its_cap_of_long_polls_gets_429_for_one_more_until_one_ends()
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RunScheduler = false, MaxLongPollsPerKey = 2 });
        using var client = await fixture.ClientAsync(76, coordinator: coordinator, coordinatorKey: fixture.OwnKey);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "long-poll-model"));
        var polls = coordinator.App.Services.GetRequiredService<LongPolls>();
        var keyId = ApiKeys.IdOf(client.ApiKey);

        using var stop = new CancellationTokenSource();
        var held = Enumerable.Range(0, 2).Select(_ => client.Http.GetAsync($"v1/jobs/{jobId}?wait=10", stop.Token)).ToList();
        await Poll.UntilAsync(() => Task.FromResult(polls.OpenFor(keyId) == 2));

        using (var over = await client.Http.GetAsync($"v1/jobs/{jobId}?wait=10"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, over.StatusCode);
            Assert.Equal("application/problem+json", over.Content.Headers.ContentType?.MediaType);
            Assert.Contains("GET ?wait=", await over.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.NotNull(over.Headers.RetryAfter);
        }
        // Reading without waiting is not a long poll, and another key's polls are its own.
        Assert.Equal("pending", (await client.GetJobAsync(jobId)).GetProperty("status").GetString());
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        var adminPoll = admin.GetAsync($"v1/jobs/{jobId}?wait=10", stop.Token);
        await Poll.UntilAsync(() => Task.FromResult(polls.OpenFor(ApiKeys.BootstrapAdminId) == 1));

        await stop.CancelAsync();
        foreach (var poll in held.Append(adminPoll))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        }
        // The server ends the abandoned polls and gives their places back.
        await Poll.UntilAsync(() => Task.FromResult(polls.OpenFor(keyId) == 0 && polls.OpenFor(ApiKeys.BootstrapAdminId) == 0));
        var cancelled = client.Http.PostAsync($"v1/jobs/{jobId}/cancel", null);
        Assert.Equal("cancelled", (await client.GetJobAsync(jobId, "?wait=10")).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await cancelled).StatusCode);
    }
}
