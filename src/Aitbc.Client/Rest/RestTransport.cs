using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Core.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly.Timeout;

namespace Aitbc.Client.Rest;

/// <summary>
/// JSON over HTTP for the REST clients: sends a request through the retry pipeline, turns problem bodies into
/// <see cref="RestApiException"/>, transport failures into <see cref="RestUnavailableException"/>.
/// </summary>
public sealed class RestTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    public RestTransport(HttpClient http, bool ownsHttp = false)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttp;
    }

    public Uri? BaseAddress => _http.BaseAddress;

    /// <summary>An HttpClient with the Aitbc retry pipeline and its own connection pool (trusting <see cref="Tls.CaCertificateVariable"/>'s CAs).</summary>
    public static RestTransport Create(Uri? baseAddress, RetryOptions? retry = null, TimeProvider? time = null, HttpMessageHandler? transport = null)
    {
        var pipeline = RetryPipeline.Build(retry ?? new RetryOptions(), time ?? TimeProvider.System);
        var handler = new ResilienceHandler(pipeline) { InnerHandler = new AttemptCounter(transport ?? Tls.CreateClientHandler()) };
        // The pipeline's attempt timeout bounds each try; HttpClient's own 100 s default would cut across retries.
        var http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        return new RestTransport(http, ownsHttp: true);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    /// <summary>Sends <paramref name="body"/> (JSON, when not null) and reads a <typeparamref name="T"/> from a 2xx answer.</summary>
    public async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var (url, bytes) = await SendRawAsync(method, path, body, headers, cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<T>(bytes, RestJson.Options) ?? throw new RestProtocolException(url, "the body is JSON null");
        }
        catch (JsonException e)
        {
            throw new RestProtocolException(url, $"the body is not a {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>Sends a request and returns the 2xx body's bytes.</summary>
    public async Task<(Uri Url, byte[] Body)> SendRawAsync(HttpMethod method, string path, object? body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        var url = Resolve(path);
        var attempts = new AttemptCount();
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            // ByteArrayContent can be sent again on each retry, unlike a stream.
            request.Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, body.GetType(), RestJson.Options)) { Headers = { ContentType = JsonMediaType } };
        }
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        request.Headers.Accept.ParseAdd("application/json");
        request.Options.Set(AttemptCounter.Key, attempts);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException || RetryPipeline.IsTransportFailure(e))
        {
            throw new RestUnavailableException(url, attempts.Value, RetryPipeline.DescribeTransportFailure(e), e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new RestUnavailableException(url, attempts.Value, $"no answer within {e.Timeout.TotalSeconds:0.###} s", e);
        }
        catch (TaskCanceledException e)
        {
            throw new RestUnavailableException(url, attempts.Value, "no answer in time", e);
        }
        using (response)
        {
            var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return (url, bytes);
            }
            var problem = ReadProblem(bytes);
            var status = (int)response.StatusCode;
            if (status >= 500 && problem is null || status == 502 || status == 504)
            {
                // Not the service's own refusal (a proxy, a crash page): report it as the service being unreachable.
                throw new RestUnavailableException(url, attempts.Value, $"HTTP {status} {response.ReasonPhrase}".TrimEnd());
            }
            var retryAfter = RetryPipeline.RetryAfter(response, TimeProvider.System, TimeSpan.MaxValue);
            throw new RestApiException(url, response.StatusCode, problem?.Title ?? response.ReasonPhrase, problem?.Detail, problem?.Errors, retryAfter);
        }
    }

    private Uri Resolve(string path)
    {
        if (Uri.TryCreate(path, UriKind.Absolute, out var absolute) && absolute.Scheme.StartsWith("http", StringComparison.Ordinal))
        {
            return absolute;
        }
        var baseAddress = _http.BaseAddress ?? throw new InvalidOperationException("a relative path needs the HttpClient's BaseAddress");
        // Keep a path prefix of the base (https://host/aitbc/) by resolving against it with a trailing slash.
        var root = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        return new Uri(root, path.TrimStart('/'));
    }

    private static ProblemBody? ReadProblem(byte[] bytes)
    {
        if (bytes.Length == 0)
        {
            return null;
        }
        try
        {
            var problem = JsonSerializer.Deserialize<ProblemBody>(bytes, RestJson.Options);
            return problem is { Title: null, Detail: null } ? null : problem;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record ProblemBody(string? Type, string? Title, int? Status, string? Detail, Dictionary<string, string[]>? Errors);
}
