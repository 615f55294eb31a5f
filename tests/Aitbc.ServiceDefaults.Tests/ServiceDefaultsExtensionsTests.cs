using System.Net;
using System.Text.Json;
using Aitbc.ServiceDefaults.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.ServiceDefaults.Tests;

public sealed class ServiceDefaultsExtensionsTests
{
    [Fact]
    public async Task Healthz_is_ok_and_readyz_is_ready_with_each_checks_data()
    {
        await using var service = await StartWithCheckAsync(new SwitchableCheck());
        using var http = service.Http();

        using var health = await http.GetAsync("healthz");
        using var ready = await http.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("""{"status":"ok"}""", await health.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("""{"status":"ready","shard":7}""", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_is_a_503_problem_naming_what_failed_while_healthz_stays_ok()
    {
        var check = new SwitchableCheck();
        await using var service = await StartWithCheckAsync(check);
        using var http = service.Http();
        check.Failure = "database unavailable: connection refused";

        using var ready = await http.GetAsync("readyz");
        using var health = await http.GetAsync("healthz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("application/problem+json", ready.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.Equal("database unavailable: connection refused", problem.RootElement.GetProperty("detail").GetString());
        Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);

        check.Failure = null;
        using var readyAgain = await http.GetAsync("readyz");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task A_service_may_answer_readiness_its_own_way()
    {
        var check = new SwitchableCheck { Failure = "block 3 refused" };
        await using var service = await TestService.StartAsync(
            (builder, health) =>
            {
                builder.Services.AddSingleton(check);
                health.AddReadinessCheck<SwitchableCheck>("sync");
            },
            configureOptions: options => options with
            {
                ReadinessAnswer = report => Results.Json(new { status = "halted", reason = Readiness.FirstFailure(report) }, statusCode: StatusCodes.Status503ServiceUnavailable),
            });
        using var http = service.Http();

        using var ready = await http.GetAsync("readyz");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal("""{"status":"halted","reason":"block 3 refused"}""", await ready.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("POST", "/healthz")]
    [InlineData("POST", "/readyz")]
    [InlineData("DELETE", "/metrics")]
    public async Task The_probes_answer_only_GET(string method, string path)
    {
        await using var service = await TestService.StartAsync();
        using var http = service.Http();

        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    [Fact]
    public async Task Metrics_serves_the_services_own_registry()
    {
        await using var service = await TestService.StartAsync();
        Prometheus.Metrics.WithCustomRegistry(service.Metrics).CreateCounter("aitbc_test_things_total", "Things.").Inc(3);
        using var http = service.Http();

        var text = await http.GetStringAsync("metrics");

        Assert.Contains("aitbc_test_things_total 3", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_request_log_has_a_line_per_request_but_not_for_successful_probes()
    {
        await using var service = await TestService.StartAsync(map: app =>
        {
            app.MapGet("/thing", () => "thing");
            app.MapGet("/broken", () => Results.StatusCode(StatusCodes.Status500InternalServerError));
        });
        using (var http = service.Http())
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("thing?cursor=secret")).StatusCode);
            Assert.Equal(HttpStatusCode.InternalServerError, (await http.GetAsync("broken")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("metrics")).StatusCode);
        }

        var log = await service.StopAndReadLogAsync();

        Assert.Matches(@"\[INF\] [^\n]*HTTP GET /thing responded 200 in", log);
        Assert.Matches(@"\[ERR\] [^\n]*HTTP GET /broken responded 500 in", log);
        Assert.DoesNotContain("secret", log, StringComparison.Ordinal);
        Assert.DoesNotContain("/healthz", log, StringComparison.Ordinal);
        Assert.DoesNotContain("/metrics", log, StringComparison.Ordinal);
    }

    private static Task<TestService> StartWithCheckAsync(SwitchableCheck check) =>
        TestService.StartAsync((builder, health) =>
        {
            builder.Services.AddSingleton(check);
            health.AddReadinessCheck<SwitchableCheck>("database");
        });
}
