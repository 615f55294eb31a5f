using System.Net;
using System.Text.Json;

namespace Aitbc.Miner.Backends;

/// <summary>
/// What the two HTTP backends share: one call run under the caller's token and the configured timeout, and every
/// way it can fail turned into an <see cref="InferenceException"/> of the right kind.
/// </summary>
internal static class HttpBackendCall
{
    private const int MaxMessageLength = 500;

    public static async Task<T> RunAsync<T>(
        string backend, TimeSpan timeout, TimeProvider time, Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        using var timeoutCts = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutCts.Token);
        try
        {
            return await call(linked.Token).ConfigureAwait(false);
        }
        catch (InferenceException)
        {
            throw;
        }
        catch (Exception e)
        {
            // A cancelled read can surface as an IOException as well as an OperationCanceledException, so the
            // tokens decide first and the exception's type only after.
            throw Classify(backend, timeout, e, ct.IsCancellationRequested, timeoutCts.IsCancellationRequested);
        }
    }

    private static InferenceException Classify(
        string backend, TimeSpan timeout, Exception e, bool cancelled, bool timedOut) => e switch
        {
            _ when cancelled => new(InferenceFailure.Cancelled, $"{backend}: the job was cancelled", e),
            _ when timedOut => new(InferenceFailure.Timeout, $"{backend} did not finish within {timeout.TotalSeconds:0.###} s", e),
            // The handler's own connect timeout: no token of ours fired.
            OperationCanceledException => new(InferenceFailure.Timeout, $"{backend} timed out: {e.Message}", e),
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
                => new(InferenceFailure.Unreachable, $"{backend} is unreachable: {e.Message}", e),
            HttpRequestException or IOException
                => new(InferenceFailure.BackendError, $"{backend} broke off the answer: {e.Message}", e),
            JsonException => new(InferenceFailure.BackendError, $"{backend} sent an answer that is not valid JSON: {e.Message}", e),
            _ => new(InferenceFailure.BackendError, $"{backend} failed: {e.Message}", e),
        };

    /// <summary>Turns a non-success answer into the failure it stands for, with the server's own message.</summary>
    public static async Task<InferenceException> FromStatusAsync(string backend, HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        var message = ErrorMessage(body);
        var status = (int)response.StatusCode;
        return response.StatusCode == HttpStatusCode.NotFound
            ? new(InferenceFailure.ModelNotFound, $"{backend}: {message}")
            : new(InferenceFailure.BackendError, $"{backend} answered {status}: {message}");
    }

    /// <summary>
    /// The message in an error body: Ollama's <c>{"error":"…"}</c>, OpenAI's <c>{"error":{"message":"…"}}</c>, or
    /// the body itself (shortened) when it is neither.
    /// </summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    return error.GetString()!;
                }
                if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message)
                    && message.ValueKind == JsonValueKind.String)
                {
                    return message.GetString()!;
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the raw body is the best message there is.
        }
        var trimmed = body.Trim();
        if (trimmed.Length == 0)
        {
            return "(empty body)";
        }
        return trimmed.Length <= MaxMessageLength ? trimmed : trimmed[..MaxMessageLength] + "…";
    }
}
