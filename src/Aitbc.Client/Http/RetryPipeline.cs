using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Retry;

namespace Aitbc.Client.Http;

/// <summary>
/// The resilience pipeline every Aitbc HTTP client runs its requests through: a retry with exponential backoff and
/// jitter around a per-attempt timeout. Time comes from the given <see cref="TimeProvider"/>, so tests drive backoff
/// and <c>Retry-After</c> with a fake clock instead of sleeping.
/// </summary>
public static class RetryPipeline
{
    /// <summary>Adds the retry and the attempt timeout to <paramref name="builder"/> (also the shape <c>AddResilienceHandler</c> wants).</summary>
    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> builder, RetryOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        builder.TimeProvider = time;
        if (options.MaxRetries > 0)
        {
            var retry = new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.UseJitter,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                // Our generator reads Retry-After itself so that it can cap it (the built-in one would not).
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time, options.MaxRetryAfter)),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            };
            if (options.Randomizer is { } randomizer)
            {
                retry.Randomizer = randomizer;
            }
            builder.AddRetry(retry);
        }
        // Inside the retry, so a hung attempt is abandoned and retried rather than ending the whole call.
        builder.AddTimeout(options.AttemptTimeout);
    }

    /// <summary>A ready pipeline, for clients built without dependency injection.</summary>
    public static ResiliencePipeline<HttpResponseMessage> Build(RetryOptions options, TimeProvider time)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage>();
        Configure(builder, options, time);
        return builder.Build();
    }

    /// <summary>
    /// The standard transient outcomes (HttpRequestException, timeouts, 5xx, 408, 429), plus a socket error that escapes
    /// HttpClient unwrapped: a connection reset right after connect surfaces as a bare SocketException (or IOException)
    /// from the connection pool, and is as transient as a refused connection.
    /// </summary>
    internal static bool IsTransient(Outcome<HttpResponseMessage> outcome) =>
        !IsTlsFailure(outcome.Exception) && (HttpClientResiliencePredicates.IsTransient(outcome) || IsTransportFailure(outcome.Exception));

    /// <summary>The server's certificate was refused (untrusted, wrong name, expired): retrying cannot help.</summary>
    public static bool IsTlsFailure(Exception? e) =>
        e is HttpRequestException { InnerException: System.Security.Authentication.AuthenticationException };

    /// <summary>What went wrong with the connection, in words; a refused certificate names the setting that trusts one.</summary>
    public static string DescribeTransportFailure(Exception e) =>
        IsTlsFailure(e)
            ? $"TLS handshake failed: {e.InnerException!.Message} (trust the server's CA with --ca-cert or {Aitbc.Core.Net.Tls.CaCertificateVariable})"
            : e.Message;

    /// <summary>A failure of the connection itself, however HttpClient wrapped it.</summary>
    public static bool IsTransportFailure(Exception? e) =>
        e is System.Net.Sockets.SocketException or IOException || e is HttpRequestException { InnerException: System.Net.Sockets.SocketException or IOException };

    /// <summary>The wait a 429/503 answer asks for, capped; null (use the backoff) when it asks for none.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time, TimeSpan cap)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null || response!.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable))
        {
            return null;
        }
        var wait = header.Delta ?? (header.Date is { } date ? date - time.GetUtcNow() : TimeSpan.Zero);
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > cap ? cap : wait;
    }
}
