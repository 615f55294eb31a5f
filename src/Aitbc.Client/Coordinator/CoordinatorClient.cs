using System.Globalization;
using Aitbc.Client.Http;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Proofs;

namespace Aitbc.Client.Coordinator;

/// <summary>
/// Typed client for the coordinator's REST API (docs/protocol.md, "Coordinator REST"). One instance speaks with one key:
/// a client or admin key goes in <c>X-Api-Key</c>, a miner key in <c>X-Miner-Key</c>. Network errors, 5xx and 429
/// are retried with backoff (<see cref="RetryOptions"/>); a job submission always carries an <c>Idempotency-Key</c>,
/// so a retry never makes a second job. Failures are <see cref="RestClientException"/>s.
/// </summary>
public sealed class CoordinatorClient : IDisposable
{
    private readonly RestTransport _rest;
    private readonly Dictionary<string, string> _keyHeaders;

    public CoordinatorClient(HttpClient http, string? apiKey, bool asMiner = false)
        : this(new RestTransport(http), apiKey, asMiner)
    {
    }

    private CoordinatorClient(RestTransport rest, string? apiKey, bool asMiner)
    {
        _rest = rest;
        _keyHeaders = apiKey is null ? [] : new() { [asMiner ? CoordinatorHeaders.MinerKey : CoordinatorHeaders.ApiKey] = apiKey };
        Url = rest.BaseAddress ?? throw new ArgumentException("the HttpClient's BaseAddress must be the coordinator's URL");
    }

    public Uri Url { get; }

    /// <summary>A client with its own HttpClient and retry pipeline. <paramref name="asMiner"/> sends the key as <c>X-Miner-Key</c>.</summary>
    public static CoordinatorClient Create(Uri url, string? apiKey, RetryOptions? retry = null, TimeProvider? time = null, HttpMessageHandler? transport = null, bool asMiner = false)
    {
        ArgumentNullException.ThrowIfNull(url);
        return new CoordinatorClient(RestTransport.Create(url, retry, time, transport), apiKey, asMiner);
    }

    public void Dispose() => _rest.Dispose();

    // ---------------- jobs (client) ----------------

    /// <summary>Submits a job; <paramref name="idempotencyKey"/> defaults to a fresh one, reused by every retry of this call.</summary>
    public Task<JobAccepted> SubmitJobAsync(JobSubmission job, string? idempotencyKey = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(job);
        var headers = new Dictionary<string, string>(_keyHeaders) { [CoordinatorHeaders.IdempotencyKey] = idempotencyKey ?? Guid.NewGuid().ToString("N") };
        return _rest.SendAsync<JobAccepted>(HttpMethod.Post, "v1/jobs", job, headers, cancellationToken);
    }

    /// <summary>A job; with <paramref name="waitSeconds"/> the coordinator holds the answer until the job is terminal or the time is up.</summary>
    public Task<JobView> GetJobAsync(string jobId, int? waitSeconds = null, CancellationToken cancellationToken = default) =>
        Get<JobView>($"v1/jobs/{Escape(jobId)}" + (waitSeconds is { } w ? $"?wait={w.ToString(CultureInfo.InvariantCulture)}" : ""), cancellationToken);

    /// <summary>Long-polls until the job is terminal (or <paramref name="cancellationToken"/> fires), calling <paramref name="progress"/> on each change.</summary>
    public async Task<JobView> WaitForJobAsync(string jobId, int pollSeconds = 30, Action<JobView>? progress = null, CancellationToken cancellationToken = default)
    {
        string? last = null;
        while (true)
        {
            var job = await GetJobAsync(jobId, waitSeconds: 0, cancellationToken).ConfigureAwait(false);
            if (job.Status != last)
            {
                progress?.Invoke(job);
                last = job.Status;
            }
            if (job.IsTerminal)
            {
                return job;
            }
            // The coordinator answers a long-poll as soon as the job is terminal; a state change before that is seen on the next round.
            job = await GetJobAsync(jobId, Math.Min(pollSeconds, job.Status == JobStatus.Pending ? 1 : pollSeconds), cancellationToken).ConfigureAwait(false);
            if (job.IsTerminal)
            {
                if (job.Status != last)
                {
                    progress?.Invoke(job);
                }
                return job;
            }
        }
    }

    public Task<JobPage> ListJobsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        Get<JobPage>("v1/jobs" + Query(("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)), cancellationToken);

    public Task<JobView> CancelJobAsync(string jobId, CancellationToken cancellationToken = default) =>
        Post<JobView>($"v1/jobs/{Escape(jobId)}/cancel", null, cancellationToken);

    // ---------------- receipts ----------------

    /// <summary>A job's signed receipt, with <c>chain</c> once the chain committed it.</summary>
    public Task<Receipt> GetReceiptAsync(string receiptId, CancellationToken cancellationToken = default) =>
        Get<Receipt>($"v1/receipts/{Escape(receiptId)}", cancellationToken);

    // ---------------- miners (X-Miner-Key) ----------------

    public Task<MinerRegistered> RegisterMinerAsync(MinerRegistration registration, CancellationToken cancellationToken = default) =>
        Post<MinerRegistered>("v1/miners/register", registration, cancellationToken);

    public Task<HeartbeatAck> HeartbeatAsync(MinerHeartbeat heartbeat, CancellationToken cancellationToken = default) =>
        Post<HeartbeatAck>("v1/miners/heartbeat", heartbeat, cancellationToken);

    public Task<JobView> ReportJobStatusAsync(string jobId, JobStatusUpdate update, CancellationToken cancellationToken = default) =>
        Post<JobView>($"v1/jobs/{Escape(jobId)}/status", update, cancellationToken);

    public Task<JobView> CompleteJobAsync(string jobId, JobCompletion completion, CancellationToken cancellationToken = default) =>
        Post<JobView>($"v1/jobs/{Escape(jobId)}/complete", completion, cancellationToken);

    public Task<JobView> FailJobAsync(string jobId, JobFailure failure, CancellationToken cancellationToken = default) =>
        Post<JobView>($"v1/jobs/{Escape(jobId)}/fail", failure, cancellationToken);

    // ---------------- market and explorer (any key) ----------------

    public Task<MarketMiners> GetMarketMinersAsync(CancellationToken cancellationToken = default) => Get<MarketMiners>("v1/market/miners", cancellationToken);

    public Task<MarketModels> GetMarketModelsAsync(CancellationToken cancellationToken = default) => Get<MarketModels>("v1/market/models", cancellationToken);

    public Task<MarketStats> GetMarketStatsAsync(CancellationToken cancellationToken = default) => Get<MarketStats>("v1/market/stats", cancellationToken);

    public Task<ExplorerBlocks> GetExplorerBlocksAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        Get<ExplorerBlocks>("v1/explorer/blocks" + Query(("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)), cancellationToken);

    public Task<ExplorerTransactions> GetExplorerTransactionsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        Get<ExplorerTransactions>("v1/explorer/transactions" + Query(("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)), cancellationToken);

    public Task<ExplorerReceipts> GetExplorerReceiptsAsync(int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        Get<ExplorerReceipts>("v1/explorer/receipts" + Query(("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)), cancellationToken);

    // ---------------- admin ----------------

    public Task<ApiKeyCreated> CreateApiKeyAsync(ApiKeyRequest request, CancellationToken cancellationToken = default) =>
        Post<ApiKeyCreated>("v1/admin/keys", request, cancellationToken);

    /// <summary>Revokes the key with this id (<c>DELETE /v1/admin/keys/{id}</c>): every later request with it is refused.</summary>
    public async Task RevokeApiKeyAsync(string keyId, CancellationToken cancellationToken = default) =>
        await _rest.SendRawAsync(HttpMethod.Delete, "v1/admin/keys/" + Uri.EscapeDataString(keyId), null, _keyHeaders, cancellationToken).ConfigureAwait(false);

    /// <summary>Every registered miner, online or not, with its endpoint and job counts.</summary>
    public Task<MarketMiners> GetAdminMinersAsync(CancellationToken cancellationToken = default) => Get<MarketMiners>("v1/admin/miners", cancellationToken);

    /// <summary>All clients' jobs, newest first, optionally of one status.</summary>
    public Task<JobPage> GetAdminJobsAsync(string? status = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        Get<JobPage>("v1/admin/jobs" + Query(("status", status), ("limit", limit?.ToString(CultureInfo.InvariantCulture)), ("cursor", cursor)), cancellationToken);

    // ---------------- health ----------------

    /// <summary>Returns when <c>/healthz</c> answers 2xx.</summary>
    public async Task HealthAsync(CancellationToken cancellationToken = default) =>
        await _rest.SendRawAsync(HttpMethod.Get, "healthz", null, null, cancellationToken).ConfigureAwait(false);

    /// <summary>Returns when <c>/readyz</c> answers 2xx (database and node reachable).</summary>
    public async Task ReadyAsync(CancellationToken cancellationToken = default) =>
        await _rest.SendRawAsync(HttpMethod.Get, "readyz", null, null, cancellationToken).ConfigureAwait(false);

    private Task<T> Get<T>(string path, CancellationToken cancellationToken) => _rest.SendAsync<T>(HttpMethod.Get, path, null, _keyHeaders, cancellationToken);

    private Task<T> Post<T>(string path, object? body, CancellationToken cancellationToken) =>
        _rest.SendAsync<T>(HttpMethod.Post, path, body ?? new { }, _keyHeaders, cancellationToken);

    private static string Escape(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Uri.EscapeDataString(id);
    }

    private static string Query(params (string Name, string? Value)[] parts)
    {
        var present = parts.Where(p => p.Value is not null).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }
}
