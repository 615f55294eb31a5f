using System.Net;
using System.Net.Sockets;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Client.Tests.Http;

/// <summary>
/// A connection reset right after connect can surface from HttpClient's pool as a bare SocketException, not an
/// HttpRequestException (seen in the e2e suite against a resetting proxy). It must be retried like any transient
/// failure, and in the end reported as "unavailable", never escape as an unhandled exception.
/// </summary>
public sealed class TransportFailureTests
{
    private static readonly RetryOptions Tiny = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };

    [Fact]
    public async Task A_bare_socket_error_is_retried_and_the_next_answer_wins()
    {
        var transport = new ScriptedHandler(
            _ => throw new SocketException((int)SocketError.NotConnected),
            _ => throw new IOException("connection reset by peer"),
            _ => Json("""{"job_id":"job_1","status":"pending","submitted_at":"2026-11-28T00:00:00.000Z"}""", HttpStatusCode.Created));
        using var client = CoordinatorClient.Create(new Uri("http://coordinator.test/"), "ak_test", Tiny, transport: transport);

        var accepted = await client.SubmitJobAsync(new JobSubmission("inference", "What is machine learning?", "llama3.2:latest"));

        Assert.Equal("job_1", accepted.JobId);
        Assert.Equal(3, transport.Calls);
        // Every retry carried the same Idempotency-Key, so the coordinator can make at most one job of them.
        Assert.Single(transport.IdempotencyKeys.Distinct());
    }

    [Fact]
    public async Task Socket_errors_to_the_end_are_unavailable_for_the_coordinator_and_the_node()
    {
        var coordinatorTransport = new ScriptedHandler(_ => throw new SocketException((int)SocketError.NotConnected));
        using var coordinator = CoordinatorClient.Create(new Uri("http://coordinator.test/"), "ak_test", Tiny, transport: coordinatorTransport);
        var rest = await Assert.ThrowsAsync<RestUnavailableException>(() => coordinator.GetMarketStatsAsync());
        Assert.Equal(4, rest.Attempts);

        var nodeTransport = new ScriptedHandler(_ => throw new SocketException((int)SocketError.ConnectionReset));
        using var node = NodeClient.Create(new Uri("http://node.test/"), Tiny, transport: nodeTransport);
        var rpc = await Assert.ThrowsAsync<NodeUnavailableException>(() => node.HealthAsync());
        Assert.Equal(4, rpc.Attempts);
    }

    private static HttpResponseMessage Json(string body, HttpStatusCode status) =>
        new(status) { Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json") };

    /// <summary>Answers each request with the next step of a script; the last step repeats.</summary>
    private sealed class ScriptedHandler(params Func<HttpRequestMessage, HttpResponseMessage>[] steps) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => _calls;

        public List<string> IdempotencyKeys { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var call = Interlocked.Increment(ref _calls);
            if (request.Headers.TryGetValues(CoordinatorHeaders.IdempotencyKey, out var keys))
            {
                IdempotencyKeys.AddRange(keys);
            }
            return Task.FromResult(steps[Math.Min(call, steps.Length) - 1](request));
        }
    }
}
