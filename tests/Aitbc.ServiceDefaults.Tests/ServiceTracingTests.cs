using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Aitbc.ServiceDefaults.Tests.Infrastructure;
using Aitbc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Aitbc.ServiceDefaults.Tests;

public sealed class ServiceTracingTests
{
    [Fact]
    public async Task A_traceparent_on_a_request_is_the_server_activitys_parent_and_goes_on_with_an_outgoing_call()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var seen = new MatchingActivities(a => a.TraceId == traceId);
        await using var downstream = await StartDownstreamAsync();
        await using var service = await TestService.StartAsync(map: app => app.MapGet("/hop", async () =>
        {
            using var span = TestService.Source.StartActivity("hop");
            using var http = new HttpClient();
            return await http.GetStringAsync(new Uri(downstream.Url, "traceparent"));
        }));
        using var client = service.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, "hop");
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");

        using var response = await client.SendAsync(request);
        var forwarded = await response.Content.ReadAsStringAsync();

        // 00-<trace id>-<span id>-<flags>: the downstream service saw the caller's trace.
        Assert.Equal(traceId.ToString(), forwarded.Split('-')[1]);
        var server = await seen.WaitForAsync(a => a.Kind == ActivityKind.Server && a.ParentSpanId == callerSpan);
        Assert.Equal("Microsoft.AspNetCore", server.Source.Name);
        var hop = await seen.WaitForAsync(a => a.Source == TestService.Source);
        Assert.Equal(server.SpanId, hop.ParentSpanId);
        var call = await seen.WaitForAsync(a => a.Kind == ActivityKind.Client && a.Source.Name == "System.Net.Http");
        Assert.Equal(hop.SpanId, call.ParentSpanId);
        Assert.Equal(call.SpanId.ToString(), forwarded.Split('-')[2]);
    }

    [Fact]
    public async Task With_an_otlp_endpoint_the_services_spans_are_exported_there()
    {
        var exported = new ConcurrentQueue<byte[]>();
        await using var collector = await StartCollectorAsync(exported);
        await using var service = await TestService.StartAsync(
            map: app => app.MapGet("/work", () =>
            {
                using var span = TestService.Source.StartActivity("exported work");
                return "done";
            }),
            configuration: new Dictionary<string, string?>
            {
                [ServiceTracing.EndpointVariable] = collector.Url.AbsoluteUri.TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            });
        using var http = service.Http();

        Assert.Equal("done", await http.GetStringAsync("work"));
        Assert.True(service.App.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000));

        // OTLP is protobuf: its strings (span and service names) are there as UTF-8 bytes.
        var sent = exported.SelectMany(b => b).ToArray();
        Assert.True(Contains(sent, "exported work"), "the service's span was not exported");
        Assert.True(Contains(sent, "aitbc-test"), "the service's name was not exported");
    }

    [Fact]
    public async Task Without_an_otlp_endpoint_no_tracer_is_registered_and_the_services_spans_cost_nothing()
    {
        await using var service = await TestService.StartAsync(configuration: new Dictionary<string, string?> { [ServiceTracing.EndpointVariable] = "" });

        Assert.Null(service.App.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task A_command_line_tool_with_an_otlp_endpoint_exports_its_span_and_sends_its_trace_on()
    {
        var exported = new ConcurrentQueue<byte[]>();
        await using var collector = await StartCollectorAsync(exported);
        await using var downstream = await StartDownstreamAsync();
        string forwarded;
        ActivityTraceId traceId;
        using (var tracing = ServiceTracing.ForCommandLine("aitbc-test-cli", TestService.Source.Name, new Dictionary<string, string?>
        {
            [ServiceTracing.EndpointVariable] = collector.Url.AbsoluteUri.TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        }))
        {
            Assert.NotNull(tracing);
            using (var command = TestService.Source.StartActivity("aitbc-test command"))
            {
                Assert.NotNull(command);
                traceId = command.TraceId;
                using var http = new HttpClient();
                forwarded = await http.GetStringAsync(new Uri(downstream.Url, "traceparent"));
            }
            Assert.True(tracing.ForceFlush(10_000));
        }

        Assert.Equal(traceId.ToString(), forwarded.Split('-')[1]);
        var sent = exported.SelectMany(b => b).ToArray();
        Assert.True(Contains(sent, "aitbc-test command"), "the command's span was not exported");
        Assert.True(Contains(sent, "aitbc-test-cli"), "the tool's name was not exported");
    }

    [Fact]
    public void A_command_line_tool_without_an_otlp_endpoint_gets_no_tracer() =>
        Assert.Null(ServiceTracing.ForCommandLine("aitbc-test-cli", TestService.Source.Name, new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "x" }));

    private static async Task<Downstream> StartCollectorAsync(ConcurrentQueue<byte[]> exported)
    {
        var app = LoopbackServer.CreateBuilder().Build();
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            exported.Enqueue(body.ToArray());
            return Results.Ok();
        });
        return new Downstream(app, await LoopbackServer.StartAsync(app));
    }

    private static async Task<Downstream> StartDownstreamAsync()
    {
        var app = LoopbackServer.CreateBuilder().Build();
        app.MapGet("/traceparent", (HttpRequest request) => request.Headers["traceparent"].ToString());
        return new Downstream(app, await LoopbackServer.StartAsync(app));
    }

    private static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.UTF8.GetBytes(needle)) >= 0;

    /// <summary>A loopback app of the test's own: the downstream service, or the fake OTLP collector.</summary>
    private sealed record Downstream(WebApplication App, Uri Url) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => App.DisposeAsync();
    }
}
