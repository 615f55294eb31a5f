using System.Diagnostics;
using System.Net;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Http;

/// <summary>
/// Made-up API keys against a running coordinator's HTTP surface: they share their address's rate-limit bucket (a key gets
/// its own only by authenticating), and an unknown key id is remembered, so a flood costs neither buckets nor key reads.
/// </summary>
[Collection(CoordinatorCollection.Name)]
public sealed class RandomKeyFloodTests(CoordinatorFixture fixture)
{
    private const int PerSecond = 5;
    private const int Burst = 10;

    [Fact]
    public async Task A_flood_of_random_keys_gets_429s_from_its_address_bucket_and_reads_few_key_rows()
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RateLimitPerSecond = PerSecond, RateLimitBurst = Burst });
        var keys = coordinator.App.Services.GetRequiredService<ApiKeyCache>();
        using var http = coordinator.Http();
        var lookupsBefore = keys.Lookups;
        const int requests = 3000;
        var statuses = new HttpStatusCode[requests];
        var watch = Stopwatch.StartNew();
        await Parallel.ForAsync(0, requests, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/admin/miners");
            request.Headers.Add("X-Api-Key", ApiKeys.Generate().Key);
            using var response = await http.SendAsync(request, cancellationToken);
            statuses[i] = response.StatusCode;
        });
        var elapsed = watch.Elapsed;

        var admitted = statuses.Count(s => s == HttpStatusCode.Unauthorized);
        var limited = statuses.Count(s => s == HttpStatusCode.TooManyRequests);
        Assert.Equal(requests, admitted + limited);
        // The address's bucket admits its burst and then its rate: every other random key is refused before it is looked up.
        Assert.InRange(admitted, 1, Burst + (PerSecond * (int)Math.Ceiling(elapsed.TotalSeconds + 1)));
        Assert.InRange(keys.Lookups - lookupsBefore, 1, admitted);
    }

    [Fact]
    public async Task A_key_that_authenticated_keeps_its_own_bucket_while_random_keys_drain_its_address()
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RateLimitPerSecond = PerSecond, RateLimitBurst = Burst });
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        using var anonymous = coordinator.Http();
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("v1/admin/miners")).StatusCode);

        // Drain the address's bucket with made-up keys until one is refused.
        HttpStatusCode status;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "v1/admin/miners");
            request.Headers.Add("X-Api-Key", ApiKeys.Generate().Key);
            using var response = await anonymous.SendAsync(request);
            status = response.StatusCode;
        }
        while (status == HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);

        using var own = await admin.GetAsync("v1/admin/miners");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task Repeating_an_unknown_key_reads_its_row_once()
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o);
        var keys = coordinator.App.Services.GetRequiredService<ApiKeyCache>();
        using var stranger = coordinator.Http(ApiKeys.Generate().Key);
        var lookupsBefore = keys.Lookups;
        for (var i = 0; i < 50; i++)
        {
            using var response = await stranger.GetAsync("v1/admin/miners");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        Assert.Equal(1, keys.Lookups - lookupsBefore);
    }
}
