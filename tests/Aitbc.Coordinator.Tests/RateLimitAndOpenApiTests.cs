using System.Net;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests;

[Collection(CoordinatorCollection.Name)]
public sealed class RateLimitAndOpenApiTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task A_key_over_its_rate_limit_gets_429_with_retry_after_and_other_keys_do_not()
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RateLimitPerSecond = 1, RateLimitBurst = 2 });
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        var statuses = new List<HttpStatusCode>();
        // The first request is counted against the address (the key has not authenticated yet), the next two spend the key's burst.
        for (var i = 0; i < 4; i++)
        {
            using var response = await admin.GetAsync("v1/admin/miners");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);

        // The address's bucket still holds the token the admin key's first request left.
        using var other = coordinator.Http("not-a-key-and-so-the-address-bucket");
        Assert.Equal(HttpStatusCode.Unauthorized, (await other.GetAsync("v1/admin/miners")).StatusCode);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_endpoints()
    {
        using var http = fixture.Coordinator.Http();
        using var response = await http.GetAsync("openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        foreach (var path in new[] { "/v1/jobs", "/v1/miners/register", "/v1/jobs/{id}/complete", "/v1/receipts/{id}", "/v1/market/stats", "/v1/admin/jobs" })
        {
            Assert.Contains($"\"{path}\"", text);
        }
    }

    [Fact]
    public async Task Metrics_report_jobs_by_status_queue_miners_and_latencies()
    {
        using var http = fixture.Coordinator.Http();
        var text = await http.GetStringAsync("metrics");
        foreach (var name in new[] { "aitbc_coordinator_jobs{status=\"pending\"}", "aitbc_coordinator_queue_depth", "aitbc_coordinator_miners_online",
            "aitbc_coordinator_submit_to_assign_seconds_bucket", "aitbc_coordinator_complete_to_receipt_seconds_bucket" })
        {
            Assert.Contains(name, text);
        }
    }
}
