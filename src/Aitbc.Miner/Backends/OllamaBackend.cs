using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Miner.Backends;

/// <summary>
/// Ollama's native API: <c>POST /api/generate</c> streamed as NDJSON, models from <c>GET /api/tags</c>.
/// </summary>
/// <remarks>
/// A small typed client rather than OllamaSharp: the miner must tell a 404 (model not found) from a 500, catch an
/// <c>{"error":…}</c> line in the middle of a 200 stream, and tell its own timeout from the caller's cancellation.
/// Reading the NDJSON ourselves gives exact control of each, and of the wire format the tests pin, instead of
/// depending on how a library chooses to report them.
/// </remarks>
public sealed class OllamaBackend : IInferenceBackend
{
    /// <summary>Where Ollama listens unless told otherwise.</summary>
    public static readonly Uri DefaultUrl = new("http://127.0.0.1:11434/");

    private const string Name = "ollama";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;

    /// <param name="http">A client whose <see cref="HttpClient.BaseAddress"/> is Ollama's URL.</param>
    /// <param name="timeout">The most one call may take, streaming included.</param>
    public OllamaBackend(HttpClient http, TimeSpan timeout, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress);
        _http = http;
        _timeout = timeout;
        _time = time ?? TimeProvider.System;
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) =>
        HttpBackendCall.RunAsync<IReadOnlyList<string>>(Name, _timeout, _time, async token =>
        {
            using var response = await _http.GetAsync("api/tags", token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await HttpBackendCall.FromStatusAsync(Name, response, token).ConfigureAwait(false);
            }
            var tags = await response.Content.ReadFromJsonAsync<TagsResponse>(Json, token).ConfigureAwait(false);
            return tags?.Models?.Select(m => m.Name).ToList()
                ?? throw new InferenceException(InferenceFailure.BackendError, "ollama: /api/tags answered without a models list");
        }, ct);

    public Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct) =>
        HttpBackendCall.RunAsync(Name, _timeout, _time, token => GenerateCoreAsync(request, token), ct);

    private async Task<InferenceResult> GenerateCoreAsync(InferenceRequest request, CancellationToken ct)
    {
        var started = _time.GetTimestamp();
        // No options object at all when the job set none, so Ollama applies the model's own defaults.
        var options = request.Options is { } o && (o.Temperature is not null || o.NumPredict is not null || o.Seed is not null)
            ? new GenerateOptions(o.Temperature, o.NumPredict, o.Seed)
            : null;
        // Streaming, so that an error Ollama hits after it has started answering arrives as a line we can read.
        var body = new GenerateRequest(request.Model, request.Prompt, Stream: true, options);
        using var message = new HttpRequestMessage(HttpMethod.Post, "api/generate")
        {
            Content = JsonContent.Create(body, options: Json),
        };
        using var response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await HttpBackendCall.FromStatusAsync(Name, response, ct).ConfigureAwait(false);
        }

        var text = new StringBuilder();
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var chunk = JsonSerializer.Deserialize<GenerateChunk>(line, Json)
                ?? throw new InferenceException(InferenceFailure.BackendError, "ollama sent a null stream line");
            if (chunk.Error is not null)
            {
                throw new InferenceException(InferenceFailure.BackendError, $"ollama: {chunk.Error}");
            }
            text.Append(chunk.Response);
            if (chunk.Done)
            {
                // total_duration covers load, prompt and generation: the time the miner's hardware was busy.
                var seconds = chunk.TotalDuration is { } ns
                    ? ns / 1e9
                    : _time.GetElapsedTime(started).TotalSeconds;
                return new InferenceResult(
                    text.ToString(),
                    new InferenceMetrics(seconds, chunk.PromptEvalCount ?? 0, chunk.EvalCount ?? 0));
            }
        }
        throw new InferenceException(InferenceFailure.BackendError, "ollama ended the stream without a done line");
    }

    private sealed record GenerateRequest(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("prompt")] string Prompt,
        [property: JsonPropertyName("stream")] bool Stream,
        [property: JsonPropertyName("options")] GenerateOptions? Options);

    private sealed record GenerateOptions(
        [property: JsonPropertyName("temperature")] double? Temperature,
        [property: JsonPropertyName("num_predict")] int? NumPredict,
        [property: JsonPropertyName("seed")] long? Seed);

    private sealed record GenerateChunk(
        [property: JsonPropertyName("response")] string? Response,
        [property: JsonPropertyName("done")] bool Done,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("total_duration")] long? TotalDuration,
        [property: JsonPropertyName("prompt_eval_count")] int? PromptEvalCount,
        [property: JsonPropertyName("eval_count")] int? EvalCount);

    private sealed record TagsResponse([property: JsonPropertyName("models")] IReadOnlyList<TagModel>? Models);

    private sealed record TagModel([property: JsonPropertyName("name")] string Name);
}
