using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Client.Tests.Http;

/// <summary>Transient failures are retried with backoff (on a fake clock where the wait matters), and give up readably.</summary>
public sealed class RetryTests
{
    /// <summary>Backoffs of a millisecond or so: the retry logic runs for real without the test waiting on it.</summary>
    private static readonly RetryOptions Tiny = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };

    [Fact]
    public async Task Two_503s_then_an_answer_succeed_on_the_third_call()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503), FakeNodeServer.Status(503), FakeNodeServer.Healthy);
        using var client = NodeClient.Create(server.Url, Tiny);

        await client.HealthAsync();

        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task A_429_with_retry_after_zero_and_a_503_then_an_answer_succeed_on_the_third_call()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(429, retryAfter: "0"), FakeNodeServer.Status(503), FakeNodeServer.Healthy);
        using var client = NodeClient.Create(server.Url, Tiny);

        await client.HealthAsync();

        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task A_node_that_always_fails_is_unavailable_after_four_attempts()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeUnavailableException>(() => client.GetStatusAsync());

        Assert.Equal(4, server.Calls);
        Assert.Equal(4, error.Attempts);
        Assert.Equal(server.Url, error.NodeUrl);
        Assert.Contains("503", error.LastError);
        Assert.Equal($"node at {server.Url} is unavailable (status, 4 attempts): HTTP 503 Service Unavailable", error.Message);
    }

    [Fact]
    public async Task A_refused_connection_is_unavailable_with_the_url_and_the_cause()
    {
        var url = new Uri($"http://127.0.0.1:{ClosedPort()}/");
        using var client = NodeClient.Create(url, Tiny);

        var error = await Assert.ThrowsAsync<NodeUnavailableException>(() => client.GetStatusAsync());

        Assert.Equal(4, error.Attempts);
        Assert.Contains(url.ToString(), error.Message);
        Assert.Contains("refused", error.LastError, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_client_from_dependency_injection_retries_too()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503), FakeNodeServer.Status(502), FakeNodeServer.Healthy);
        var services = new ServiceCollection();
        services.AddAitbcNodeClient(server.Url, Tiny);
        await using var provider = services.BuildServiceProvider();

        await provider.GetRequiredService<NodeClient>().HealthAsync();

        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task Retry_after_is_waited_out_on_the_clock_before_the_next_attempt()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(429, retryAfter: "20"), FakeNodeServer.Healthy);
        var time = new FakeTimeProvider();
        var firstCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        server.Called += n =>
        {
            if (n == 1)
            {
                firstCall.TrySetResult();
            }
        };
        using var client = NodeClient.Create(server.Url, new RetryOptions { UseJitter = false }, time);

        var call = client.HealthAsync();
        await firstCall.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var advanced = TimeSpan.Zero;
        while (server.Calls < 2 && advanced < TimeSpan.FromMinutes(2))
        {
            // Real time only lets the client reach its wait; the wait itself passes on the fake clock.
            await Task.Delay(10);
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
        }
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Calls);
        Assert.InRange(advanced.TotalSeconds, 20, 23);
    }

    [Fact]
    public async Task Without_a_retry_after_the_backoff_grows_exponentially_on_the_clock()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503), FakeNodeServer.Status(503), FakeNodeServer.Healthy);
        var time = new FakeTimeProvider();
        var retry = new RetryOptions { UseJitter = false, BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromMinutes(1) };
        using var client = NodeClient.Create(server.Url, retry, time);

        var call = client.HealthAsync();
        var callsAt = new List<double>();
        var advanced = 0;
        var seen = 0;
        while (server.Calls < 3 && advanced < 120)
        {
            await Task.Delay(10);
            if (server.Calls > seen)
            {
                seen = server.Calls;
                callsAt.Add(advanced);
            }
            time.Advance(TimeSpan.FromSeconds(1));
            advanced++;
        }
        await call.WaitAsync(TimeSpan.FromSeconds(10));
        callsAt.Add(advanced);

        Assert.Equal(3, server.Calls);
        // Waits of 10 s then 20 s (within the second or so the stepping loop may overshoot).
        Assert.InRange(callsAt[1] - callsAt[0], 10, 12);
        Assert.InRange(callsAt[2] - callsAt[1], 20, 22);
    }

    [Theory]
    [InlineData(429, "5", 5.0)]
    [InlineData(503, "3600", 30.0)]
    [InlineData(500, "5", null)]
    [InlineData(429, null, null)]
    public void Retry_after_is_read_from_429_and_503_and_capped(int status, string? header, double? expectedSeconds)
    {
        using var response = new HttpResponseMessage((HttpStatusCode)status);
        if (header is not null)
        {
            response.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(int.Parse(header, System.Globalization.CultureInfo.InvariantCulture)));
        }

        var wait = RetryPipeline.RetryAfter(response, new FakeTimeProvider(), TimeSpan.FromSeconds(30));

        Assert.Equal(expectedSeconds, wait?.TotalSeconds);
    }

    [Fact]
    public async Task A_json_rpc_error_is_not_retried_and_keeps_code_message_and_data()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Json(
            """{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"Invalid params","data":"tx is required"}}"""));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeRpcException>(() => client.BroadcastTxSyncAsync([1, 2, 3]));

        Assert.Equal(1, server.Calls);
        Assert.Equal(-32602, error.ErrorCode);
        Assert.Equal("Invalid params", error.ErrorMessage);
        Assert.Equal("tx is required", error.ErrorData);
        Assert.Equal("node RPC broadcast_tx_sync failed: tx is required (Invalid params, -32602)", error.Message);
    }

    [Fact]
    public async Task Something_that_is_not_a_node_is_a_protocol_error_without_retries()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Json("<html>hello</html>"));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeProtocolException>(() => client.GetStatusAsync());

        Assert.Equal(1, server.Calls);
        Assert.Contains("not JSON", error.Message);
    }

    [Fact]
    public async Task A_missing_field_names_the_field()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Json("""{"jsonrpc":"2.0","id":1,"result":{"node_info":{}}}"""));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeProtocolException>(() => client.GetStatusAsync());

        Assert.Contains("'sync_info' is missing", error.Message);
    }

    /// <summary>A loopback port nothing listens on: bound once to learn a free number, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
