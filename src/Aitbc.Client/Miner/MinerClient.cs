using System.Net;
using Aitbc.Client.Http;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Client.Miner;

/// <summary>
/// The coordinator's side of the miner contract (docs/protocol.md, "Miner REST"): pushes <c>POST /v1/jobs/assign</c> to
/// a miner's endpoint. One instance serves every miner (absolute URLs). It does not retry by default: the scheduler
/// moves on to the next miner instead, and a retried assignment could start a job twice.
/// </summary>
public sealed class MinerClient : IDisposable
{
    private readonly RestTransport _rest;

    public MinerClient(HttpClient http)
    {
        _rest = new RestTransport(http);
    }

    private MinerClient(RestTransport rest)
    {
        _rest = rest;
    }

    public static MinerClient Create(RetryOptions? retry = null, TimeProvider? time = null, HttpMessageHandler? transport = null) =>
        new(RestTransport.Create(null, retry ?? new RetryOptions { MaxRetries = 0, AttemptTimeout = TimeSpan.FromSeconds(5) }, time, transport));

    public void Dispose() => _rest.Dispose();

    /// <summary>
    /// Offers <paramref name="assignment"/> to the miner at <paramref name="endpoint"/>, presenting <paramref name="assignKey"/>.
    /// Accepted (202) or refused with the miner's reason; transport failures throw <see cref="RestUnavailableException"/>.
    /// </summary>
    public async Task<AssignOutcome> AssignAsync(Uri endpoint, string assignKey, JobAssignment assignment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(assignment);
        var headers = new Dictionary<string, string> { [CoordinatorHeaders.ApiKey] = assignKey };
        try
        {
            await _rest.SendRawAsync(HttpMethod.Post, new Uri(Root(endpoint), "v1/jobs/assign").AbsoluteUri, assignment, headers, cancellationToken).ConfigureAwait(false);
            return new AssignOutcome(true, HttpStatusCode.Accepted, null);
        }
        catch (RestApiException e)
        {
            return new AssignOutcome(false, e.StatusCode, e.Message);
        }
    }

    /// <summary>Returns when the miner's <c>/healthz</c> answers 2xx.</summary>
    public async Task HealthAsync(Uri endpoint, CancellationToken cancellationToken = default) =>
        await _rest.SendRawAsync(HttpMethod.Get, new Uri(Root(endpoint), "healthz").AbsoluteUri, null, null, cancellationToken).ConfigureAwait(false);

    private static Uri Root(Uri endpoint) => endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
}

/// <summary>A miner's answer to an assignment: accepted, or refused with its status (409 model/capacity, 401/403 key, 503 busy) and reason.</summary>
public sealed record AssignOutcome(bool Accepted, HttpStatusCode Status, string? Reason);
