using System.Net.Http.Json;
using System.Text.Json;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Miner.Tests.Backends;

public sealed class OllamaBackendTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private FakeOllama _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await TestOllama.StartAsync();
        _http = new HttpClient { BaseAddress = _server.Url };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private OllamaBackend Backend() => new(_http, Timeout, _time);

    private static InferenceRequest Request(string model = "llama3.2:latest", InferenceOptions? options = null) =>
        new(model, "Why is the sky blue?", options);

    [Fact]
    public async Task Streams_the_answer_and_takes_metrics_from_the_done_line()
    {
        var result = await Backend().GenerateAsync(Request(), CancellationToken.None);

        Assert.Equal("Hello, miner!", result.Text);
        Assert.Equal(TestOllama.TotalDurationNs / 1e9, result.Metrics.ComputeTime, 9);
        Assert.Equal(TestOllama.PromptEvalCount, result.Metrics.PromptTokens);
        Assert.Equal(4, result.Metrics.TokensGenerated);
    }

    [Fact]
    public async Task Sends_model_prompt_stream_and_the_jobs_options()
    {
        var result = await Backend().GenerateAsync(
            Request(options: new InferenceOptions(Temperature: 0.2, NumPredict: 2, Seed: 42)), CancellationToken.None);

        var body = Assert.Single(_server.Requests);
        Assert.Equal("llama3.2:latest", body.GetProperty("model").GetString());
        Assert.Equal("Why is the sky blue?", body.GetProperty("prompt").GetString());
        Assert.True(body.GetProperty("stream").GetBoolean());
        var options = body.GetProperty("options");
        Assert.Equal(0.2, options.GetProperty("temperature").GetDouble());
        Assert.Equal(2, options.GetProperty("num_predict").GetInt32());
        Assert.Equal(42, options.GetProperty("seed").GetInt64());
        Assert.Equal("Hello,", result.Text);
        Assert.Equal(2, result.Metrics.TokensGenerated);
    }

    [Fact]
    public async Task Leaves_out_options_the_job_did_not_set()
    {
        await Backend().GenerateAsync(Request(options: new InferenceOptions(NumPredict: 3)), CancellationToken.None);
        await Backend().GenerateAsync(Request(), CancellationToken.None);

        var bodies = _server.Requests.ToArray();
        var options = bodies[0].GetProperty("options");
        Assert.False(options.TryGetProperty("temperature", out _));
        Assert.False(options.TryGetProperty("seed", out _));
        Assert.False(bodies[1].TryGetProperty("options", out _));
    }

    [Fact]
    public async Task Lists_the_models_from_tags()
    {
        var models = await Backend().ListModelsAsync(CancellationToken.None);

        Assert.Equal(["llama3.2:latest", "qwen2.5:0.5b"], models);
    }

    [Fact]
    public async Task An_unknown_model_is_model_not_found_with_ollamas_message()
    {
        var error = await Assert.ThrowsAsync<InferenceException>(
            () => Backend().GenerateAsync(Request(model: "mistral"), CancellationToken.None));

        Assert.Equal(InferenceFailure.ModelNotFound, error.Kind);
        Assert.Contains("model 'mistral' not found", error.Message);
    }

    [Fact]
    public async Task A_500_is_a_backend_error_with_ollamas_message()
    {
        _server.Fault = BackendFault.ServerError;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
        Assert.Contains("500", error.Message);
        Assert.Contains(FakeOllama.ServerErrorMessage, error.Message);
    }

    [Fact]
    public async Task An_error_line_mid_stream_is_a_backend_error()
    {
        _server.Fault = BackendFault.MidStreamError;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
        Assert.Contains(FakeOllama.MidStreamErrorMessage, error.Message);
    }

    [Fact]
    public async Task A_stalled_stream_times_out_and_the_request_is_aborted()
    {
        _server.Fault = BackendFault.Stall;
        var generation = Backend().GenerateAsync(Request(), CancellationToken.None);
        await _server.RequestArrived.WaitAsync(Guard);

        _time.Advance(Timeout + TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<InferenceException>(() => generation.WaitAsync(Guard));
        Assert.Equal(InferenceFailure.Timeout, error.Kind);
        await _server.RequestAborted.WaitAsync(Guard);
    }

    [Fact]
    public async Task Cancelling_the_job_aborts_the_request_at_ollama()
    {
        _server.Fault = BackendFault.Stall;
        using var cts = new CancellationTokenSource();
        var generation = Backend().GenerateAsync(Request(), cts.Token);
        await _server.RequestArrived.WaitAsync(Guard);

        await cts.CancelAsync();

        var error = await Assert.ThrowsAsync<InferenceException>(() => generation.WaitAsync(Guard));
        Assert.Equal(InferenceFailure.Cancelled, error.Kind);
        await _server.RequestAborted.WaitAsync(Guard);
    }

    [Fact]
    public async Task A_dropped_connection_mid_stream_is_a_backend_error()
    {
        _server.Fault = BackendFault.Disconnect;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
    }

    [Theory]
    [InlineData(BackendFault.Truncate, "without a done line")]
    [InlineData(BackendFault.Garbage, "not valid JSON")]
    public async Task A_stream_that_makes_no_sense_is_a_backend_error(BackendFault fault, string message)
    {
        _server.Fault = fault;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task A_refused_connection_is_unreachable()
    {
        using var http = new HttpClient { BaseAddress = FakeServer.ClosedPortUrl() };
        var backend = new OllamaBackend(http, Timeout, _time);

        var generate = await Assert.ThrowsAsync<InferenceException>(() => backend.GenerateAsync(Request(), CancellationToken.None));
        var list = await Assert.ThrowsAsync<InferenceException>(() => backend.ListModelsAsync(CancellationToken.None));

        Assert.Equal(InferenceFailure.Unreachable, generate.Kind);
        Assert.Equal(InferenceFailure.Unreachable, list.Kind);
    }

    [Fact]
    public async Task The_fake_answers_one_json_object_when_stream_is_false()
    {
        using var response = await _http.PostAsJsonAsync(
            "api/generate", new { model = "llama3.2:latest", prompt = "hi", stream = false });

        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Hello, miner!", doc.RootElement.GetProperty("response").GetString());
        Assert.True(doc.RootElement.GetProperty("done").GetBoolean());
        Assert.Equal(TestOllama.TotalDurationNs, doc.RootElement.GetProperty("total_duration").GetInt64());
    }
}
