using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Aitbc.Miner.Backends;

/// <summary>
/// Any server with OpenAI's chat API (vLLM, llama.cpp's server, LM Studio): <c>POST /v1/chat/completions</c>, models
/// from <c>GET /v1/models</c>. The prompt goes in as one user message.
/// </summary>
/// <remarks>
/// Not streamed: the error shapes these servers share are the status codes and the <c>{"error":{"message"}}</c>
/// body; an aborted request is what stops their generation, and that works the same either way.
/// </remarks>
public sealed class OpenAiCompatibleBackend : IInferenceBackend
{
    private const string Name = "openai-compatible backend";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly string? _apiKey;

    /// <param name="http">A client whose <see cref="HttpClient.BaseAddress"/> is the server's root (without <c>/v1</c>).</param>
    /// <param name="timeout">The most one call may take.</param>
    /// <param name="apiKey">Sent as a bearer token when the server wants one.</param>
    public OpenAiCompatibleBackend(HttpClient http, TimeSpan timeout, string? apiKey = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(http.BaseAddress);
        _http = http;
        _timeout = timeout;
        _apiKey = apiKey;
        _time = time ?? TimeProvider.System;
    }

    public Task<IReadOnlyList<string>> ListModelsAsync(CancellationToken ct) =>
        HttpBackendCall.RunAsync<IReadOnlyList<string>>(Name, _timeout, _time, async token =>
        {
            using var message = NewRequest(HttpMethod.Get, "v1/models");
            using var response = await _http.SendAsync(message, token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await HttpBackendCall.FromStatusAsync(Name, response, token).ConfigureAwait(false);
            }
            var models = await response.Content.ReadFromJsonAsync<ModelList>(Json, token).ConfigureAwait(false);
            return models?.Data?.Select(m => m.Id).ToList()
                ?? throw new InferenceException(InferenceFailure.BackendError, $"{Name}: /v1/models answered without a data list");
        }, ct);

    public Task<InferenceResult> GenerateAsync(InferenceRequest request, CancellationToken ct) =>
        HttpBackendCall.RunAsync(Name, _timeout, _time, async token =>
        {
            var options = request.Options;
            var body = new ChatRequest(
                request.Model,
                [new ChatMessage("user", request.Prompt)],
                options?.Temperature,
                options?.NumPredict,
                options?.Seed,
                Stream: false);
            using var message = NewRequest(HttpMethod.Post, "v1/chat/completions");
            message.Content = JsonContent.Create(body, options: Json);
            // These servers report no compute time of their own, so the miner measures the whole round trip.
            var started = _time.GetTimestamp();
            using var response = await _http.SendAsync(message, token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw await HttpBackendCall.FromStatusAsync(Name, response, token).ConfigureAwait(false);
            }
            var completion = await response.Content.ReadFromJsonAsync<ChatCompletion>(Json, token).ConfigureAwait(false);
            var elapsed = _time.GetElapsedTime(started).TotalSeconds;
            if (completion?.Choices is not [{ Message.Content: { } text }, ..])
            {
                throw new InferenceException(InferenceFailure.BackendError, $"{Name} answered without choices[0].message.content");
            }
            return new InferenceResult(
                text,
                new InferenceMetrics(elapsed, completion.Usage?.PromptTokens ?? 0, completion.Usage?.CompletionTokens ?? 0));
        }, ct);

    private HttpRequestMessage NewRequest(HttpMethod method, string path)
    {
        var message = new HttpRequestMessage(method, path);
        if (_apiKey is not null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        }
        return message;
    }

    private sealed record ChatRequest(
        [property: JsonPropertyName("model")] string Model,
        [property: JsonPropertyName("messages")] IReadOnlyList<ChatMessage> Messages,
        [property: JsonPropertyName("temperature")] double? Temperature,
        [property: JsonPropertyName("max_tokens")] int? MaxTokens,
        [property: JsonPropertyName("seed")] long? Seed,
        [property: JsonPropertyName("stream")] bool Stream);

    private sealed record ChatMessage(
        [property: JsonPropertyName("role")] string Role,
        [property: JsonPropertyName("content")] string? Content);

    private sealed record ChatCompletion(
        [property: JsonPropertyName("choices")] IReadOnlyList<ChatChoice>? Choices,
        [property: JsonPropertyName("usage")] ChatUsage? Usage);

    private sealed record ChatChoice([property: JsonPropertyName("message")] ChatMessage? Message);

    private sealed record ChatUsage(
        [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
        [property: JsonPropertyName("completion_tokens")] int CompletionTokens);

    private sealed record ModelList([property: JsonPropertyName("data")] IReadOnlyList<ModelEntry>? Data);

    private sealed record ModelEntry([property: JsonPropertyName("id")] string Id);
}
