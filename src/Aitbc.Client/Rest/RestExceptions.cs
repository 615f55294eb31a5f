using System.Net;

namespace Aitbc.Client.Rest;

/// <summary>Base of every failure a REST client (coordinator, miner) reports; its message is one readable sentence.</summary>
public abstract class RestClientException : Exception
{
    protected RestClientException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>
/// The service answered with a 4xx/5xx problem body (RFC 9457) that retrying did not change: <see cref="Detail"/> is
/// the server's own explanation, <see cref="Errors"/> the fields a validation problem names.
/// </summary>
public sealed class RestApiException(
    Uri url,
    HttpStatusCode status,
    string? title,
    string? detail,
    IReadOnlyDictionary<string, string[]>? errors,
    TimeSpan? retryAfter)
    : RestClientException(Describe(status, title, detail, errors))
{
    public Uri Url { get; } = url;

    public HttpStatusCode StatusCode { get; } = status;

    public string? Title { get; } = title;

    public string? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors ?? new Dictionary<string, string[]>();

    /// <summary>How long a 429/503 asked the caller to wait.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool IsAuthFailure => StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;

    private static string Describe(HttpStatusCode status, string? title, string? detail, IReadOnlyDictionary<string, string[]>? errors)
    {
        var text = !string.IsNullOrWhiteSpace(detail) ? detail : !string.IsNullOrWhiteSpace(title) ? title : status.ToString();
        if (errors is { Count: > 0 } && (detail is null || !errors.Values.SelectMany(v => v).Any(detail.Contains)))
        {
            text += ": " + string.Join("; ", errors.SelectMany(e => e.Value.Select(m => m.StartsWith(e.Key, StringComparison.Ordinal) ? m : $"{e.Key}: {m}")));
        }
        return text;
    }
}

/// <summary>The service could not be reached, or kept failing with 5xx/429, through every retry.</summary>
public sealed class RestUnavailableException(Uri url, int attempts, string lastError, Exception? inner = null)
    : RestClientException(attempts > 0
        ? $"{url.GetLeftPart(UriPartial.Authority)} is unreachable after {attempts} attempt{(attempts == 1 ? "" : "s")}: {lastError}"
        : $"{url.GetLeftPart(UriPartial.Authority)} is unreachable: {lastError}", inner)
{
    public Uri Url { get; } = url;

    public int Attempts { get; } = attempts;

    public string LastError { get; } = lastError;
}

/// <summary>Something answered, but not as the service does: a body that is not the contract's JSON.</summary>
public sealed class RestProtocolException(Uri url, string problem, Exception? inner = null)
    : RestClientException($"{url} gave an unexpected answer: {problem}", inner)
{
    public Uri Url { get; } = url;
}
