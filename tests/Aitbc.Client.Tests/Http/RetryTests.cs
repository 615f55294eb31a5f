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

    /// <summary>Retries at once; for tests whose clock is fake and whose waits are the attempt timeouts (30 s).</summary>
    private static readonly RetryOptions NoBackoff = new() { BaseDelay = TimeSpan.Zero, MaxDelay = TimeSpan.Zero };

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
    public async Task A_hung_attempt_times_out_and_is_retried()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Hang, FakeNodeServer.Healthy);
        var time = new TimerWatchingTimeProvider();
        using var client = NodeClient.Create(server.Url, NoBackoff, time);

        var call = client.HealthAsync();
        await time.WaitForTimerAsync(NoBackoff.AttemptTimeout);
        await server.WaitForCallsAsync(1);
        time.Advance(NoBackoff.AttemptTimeout);
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, server.Calls);
    }

    [Fact]
    public async Task A_node_that_never_answers_is_unavailable_naming_the_timeout()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Hang);
        var time = new TimerWatchingTimeProvider();
        using var client = NodeClient.Create(server.Url, NoBackoff, time);

        var call = client.HealthAsync();
        for (var attempt = 0; attempt < 4; attempt++)
        {
            await time.WaitForTimerAsync(NoBackoff.AttemptTimeout);
            // Time out only an attempt that reached the server: the attempt's clock starts before its request is sent.
            await server.WaitForCallsAsync(attempt + 1);
            time.Advance(NoBackoff.AttemptTimeout);
        }
        var error = await Assert.ThrowsAsync<NodeUnavailableException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Equal(4, server.Calls);
        Assert.Equal(4, error.Attempts);
        Assert.Equal("no answer within 30 s", error.LastError);
    }

    [Fact]
    public async Task A_cancelled_call_is_cancelled_not_unavailable()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Hang);
        using var client = NodeClient.Create(server.Url, Tiny);
        using var cancel = new CancellationTokenSource();

        var call = client.HealthAsync(cancel.Token);
        // Cancelled once the call reached the server (a fixed delay raced the request on a busy machine).
        await server.WaitForCallsAsync(1);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);

        Assert.Equal(1, server.Calls);
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
        var time = new TimerWatchingTimeProvider();
        using var client = NodeClient.Create(server.Url, new RetryOptions { UseJitter = false }, time);

        var call = client.HealthAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(20));
        time.Advance(TimeSpan.FromSeconds(19));
        var early = server.Calls;
        time.Advance(TimeSpan.FromSeconds(1));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(1, early);
        Assert.Equal(2, server.Calls);
    }

    [Fact]
    public async Task Without_a_retry_after_the_backoff_doubles_on_the_clock()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503), FakeNodeServer.Status(503), FakeNodeServer.Healthy);
        var time = new TimerWatchingTimeProvider();
        var retry = new RetryOptions { UseJitter = false, BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromMinutes(1) };
        using var client = NodeClient.Create(server.Url, retry, time);

        var call = client.HealthAsync();
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(10));
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(20));
        var beforeSecondWait = server.Calls;
        time.Advance(TimeSpan.FromSeconds(20));
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(2, beforeSecondWait);
        Assert.Equal(3, server.Calls);
    }

    [Fact]
    public async Task Jitter_draws_from_the_given_randomizer()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(503), FakeNodeServer.Healthy);
        var time = new TimerWatchingTimeProvider();
        var draws = 0;
        var retry = new RetryOptions { BaseDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromMinutes(1), Randomizer = () => { draws++; return 0.5; } };
        using var client = NodeClient.Create(server.Url, retry, time);

        var call = client.HealthAsync();
        while (server.Calls < 2)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(1);
        }
        await call.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(draws > 0, "the jittered backoff used the injected randomizer");
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
    public async Task A_404_is_a_protocol_error_without_retries()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Status(404));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeProtocolException>(() => client.GetStatusAsync());

        Assert.Equal(1, server.Calls);
        Assert.Equal($"node at {server.Url} gave an unexpected answer to status: HTTP 404 Not Found (is this a node's RPC URL?)", error.Message);
    }

    [Fact]
    public async Task A_missing_field_names_the_field()
    {
        await using var server = await FakeNodeServer.StartAsync(FakeNodeServer.Json("""{"jsonrpc":"2.0","id":1,"result":{"node_info":{}}}"""));
        using var client = NodeClient.Create(server.Url, Tiny);

        var error = await Assert.ThrowsAsync<NodeProtocolException>(() => client.GetStatusAsync());

        // node_info is read first: its missing members are named, with where they are missing.
        Assert.Contains("missing required properties including: 'protocol_version', 'id', 'listen_addr', 'network'", error.Message);
        Assert.Contains("(at $.node_info)", error.Message);
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
