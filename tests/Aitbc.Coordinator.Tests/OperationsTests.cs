using System.Net;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests;

[Collection(CoordinatorCollection.Name)]
public sealed class OperationsTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Health_and_readiness_answer_without_a_key()
    {
        using var http = fixture.Coordinator.Http();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
    }

    [Fact]
    public async Task Readiness_is_503_when_the_node_is_unreachable()
    {
        var dataDir = TempDir.Create("unready");
        try
        {
            var options = RunningCoordinator.OptionsFor(fixture.Node, fixture.Node.Coordinators[2], dataDir) with { NodeUrl = new Uri("http://127.0.0.1:1/") };
            await using var coordinator = await RunningCoordinator.StartAsync(options);
            using var http = coordinator.Http();
            using var response = await http.GetAsync("readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task Submit_while_the_node_is_unreachable_is_503_and_stores_nothing()
    {
        var dataDir = TempDir.Create("no-node");
        try
        {
            var options = RunningCoordinator.OptionsFor(fixture.Node, fixture.Node.Coordinators[2], dataDir) with { NodeUrl = new Uri("http://127.0.0.1:1/") };
            await using var coordinator = await RunningCoordinator.StartAsync(options);
            using var client = await fixture.ClientAsync(16, allowance: "0", coordinator: coordinator);
            using var response = await client.SubmitAsync(Bodies.Flat(), "k1");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter is not null);
            Assert.Null(await coordinator.Store.FindJobByIdempotencyKeyAsync(Coordinator.Auth.ApiKeys.IdOf(client.ApiKey), "k1", default));
        }
        finally
        {
            TempDir.Delete(dataDir);
        }
    }

    [Fact]
    public async Task Metrics_are_served_in_prometheus_text()
    {
        using var http = fixture.Coordinator.Http();
        var text = await http.GetStringAsync("metrics");
        Assert.Contains("aitbc_coordinator_job_submissions_total", text, StringComparison.Ordinal);
        Assert.Contains("http_request_duration_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_chain_writer_times_each_stage_of_a_flight()
    {
        using var client = await fixture.ClientAsync(64);
        using var response = await client.SubmitAsync(Bodies.Flat(), "stages-1");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        using var http = fixture.Coordinator.Http();
        var text = await http.GetStringAsync("metrics");
        foreach (var stage in new[] { "read", "sign", "store", "broadcast", "record" })
        {
            var count = text.Split('\n').Single(line => line.StartsWith($"aitbc_coordinator_chain_writer_stage_seconds_count{{stage=\"{stage}\"}}", StringComparison.Ordinal));
            Assert.True(double.Parse(count.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) >= 1, count);
        }
    }

    [Fact]
    public async Task Unknown_routes_and_methods_answer_problem_bodies()
    {
        using var http = fixture.Coordinator.Http();
        using var missing = await http.GetAsync("v1/nothing-here");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        using var wrongMethod = await http.DeleteAsync("v1/jobs");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Theory]
    [InlineData("""{"role":5}""")]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("""{"role":"client","unknown":1}""")]
    [InlineData("""{"role":"\ud800"}""")]
    [InlineData("""{"role":"client","role":"admin"}""")]
    public async Task Key_request_with_bad_json_is_400_not_500(string json)
    {
        using var response = await fixture.Admin.PostAsync("v1/admin/keys", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task The_log_names_requests_and_key_ids_but_never_keys_or_prompts()
    {
        using var client = await fixture.ClientAsync(15);
        const string secretPrompt = "my-very-secret-prompt-text";
        var jobId = await client.SubmitOkAsync(Bodies.Flat(prompt: secretPrompt, maxPrice: "1"));
        using var refused = await client.SubmitAsync("{\"type\":\"inference\"}");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.Http.GetAsync("v1/jobs")).StatusCode);
        var logPath = Path.Combine(fixture.Coordinator.Options.EffectiveLogDirectory, "coordinator.log");
        string log = "";
        await Poll.UntilAsync(async () =>
        {
            await using var stream = new FileStream(logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            log = await new StreamReader(stream).ReadToEndAsync();
            return log.Contains($"job {jobId} accepted", StringComparison.Ordinal) && log.Contains("POST /v1/jobs responded 400", StringComparison.Ordinal)
                && log.Contains("GET /v1/jobs responded 200 in", StringComparison.Ordinal);
        });
        Assert.Contains($"(key {Coordinator.Auth.ApiKeys.IdOf(client.ApiKey)})", log, StringComparison.Ordinal);
        // A routine success (each job's submit, reads, status and completion) is recorded by the job's own lines, not a line per request.
        Assert.DoesNotContain("POST /v1/jobs responded 201", log, StringComparison.Ordinal);
        Assert.DoesNotContain(client.ApiKey, log, StringComparison.Ordinal);
        Assert.DoesNotContain(RunningCoordinator.AdminKey, log, StringComparison.Ordinal);
        Assert.DoesNotContain(secretPrompt, log, StringComparison.Ordinal);
    }
}
