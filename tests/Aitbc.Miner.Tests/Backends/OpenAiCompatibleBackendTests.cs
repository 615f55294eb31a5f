using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Miner.Tests.Backends;

public sealed class OpenAiCompatibleBackendTests : IAsyncLifetime
{
    private const string Model = "Qwen/Qwen2.5-0.5B-Instruct";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _time = new();
    private FakeOpenAiServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeOpenAiServer.StartNewAsync(_time);
        _http = new HttpClient { BaseAddress = _server.Url };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private OpenAiCompatibleBackend Backend(string? apiKey = null) => new(_http, Timeout, apiKey, _time);

    private static InferenceRequest Request(string model = Model, InferenceOptions? options = null) =>
        new(model, "Why is the sky blue?", options);

    [Fact]
    public async Task Returns_the_first_choice_with_usage_and_measured_compute_time()
    {
        var result = await Backend().GenerateAsync(Request(), CancellationToken.None);

        Assert.Equal(FakeOpenAiServer.Answer, result.Text);
        Assert.Equal(FakeOpenAiServer.PromptTokens, result.Metrics.PromptTokens);
        Assert.Equal(5, result.Metrics.TokensGenerated);
        Assert.Equal(FakeOpenAiServer.ComputeTime.TotalSeconds, result.Metrics.ComputeTime, 9);
    }

    [Fact]
    public async Task Sends_the_prompt_as_a_user_message_with_the_jobs_options()
    {
        var result = await Backend("sk-local").GenerateAsync(
            Request(options: new InferenceOptions(Temperature: 0.3, NumPredict: 2, Seed: 9)), CancellationToken.None);

        var body = Assert.Single(_server.Requests);
        Assert.Equal(Model, body.GetProperty("model").GetString());
        var message = Assert.Single(body.GetProperty("messages").EnumerateArray());
        Assert.Equal("user", message.GetProperty("role").GetString());
        Assert.Equal("Why is the sky blue?", message.GetProperty("content").GetString());
        Assert.Equal(0.3, body.GetProperty("temperature").GetDouble());
        Assert.Equal(2, body.GetProperty("max_tokens").GetInt32());
        Assert.Equal(9, body.GetProperty("seed").GetInt64());
        Assert.False(body.GetProperty("stream").GetBoolean());
        Assert.Equal("Bearer sk-local", Assert.Single(_server.Authorizations));
        Assert.Equal("The sky", result.Text);
    }

    [Fact]
    public async Task Leaves_out_options_the_job_did_not_set_and_sends_no_key_without_one()
    {
        await Backend().GenerateAsync(Request(), CancellationToken.None);

        var body = Assert.Single(_server.Requests);
        Assert.False(body.TryGetProperty("temperature", out _));
        Assert.False(body.TryGetProperty("max_tokens", out _));
        Assert.False(body.TryGetProperty("seed", out _));
        Assert.Equal("", Assert.Single(_server.Authorizations));
    }

    [Fact]
    public async Task Lists_the_models()
    {
        var models = await Backend().ListModelsAsync(CancellationToken.None);

        Assert.Equal([Model, "meta-llama/Llama-3.2-1B"], models);
    }

    [Fact]
    public async Task A_404_is_model_not_found_with_the_servers_message()
    {
        var error = await Assert.ThrowsAsync<InferenceException>(
            () => Backend().GenerateAsync(Request(model: "gpt-4o"), CancellationToken.None));

        Assert.Equal(InferenceFailure.ModelNotFound, error.Kind);
        Assert.Contains("The model `gpt-4o` does not exist.", error.Message);
    }

    [Fact]
    public async Task A_500_is_a_backend_error_with_the_servers_message()
    {
        _server.Fault = BackendFault.ServerError;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
        Assert.Contains("500", error.Message);
        Assert.Contains(FakeOpenAiServer.ServerErrorMessage, error.Message);
    }

    [Fact]
    public async Task A_stalled_server_times_out_and_the_request_is_aborted()
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
    public async Task Cancelling_the_job_aborts_the_request_at_the_server()
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
    public async Task A_dropped_connection_is_a_backend_error()
    {
        _server.Fault = BackendFault.Disconnect;

        var error = await Assert.ThrowsAsync<InferenceException>(() => Backend().GenerateAsync(Request(), CancellationToken.None));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
    }

    [Theory]
    [InlineData(BackendFault.Truncate, "without choices[0].message.content")]
    [InlineData(BackendFault.Garbage, "not valid JSON")]
    public async Task An_answer_that_makes_no_sense_is_a_backend_error(BackendFault fault, string message)
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
        var backend = new OpenAiCompatibleBackend(http, Timeout, time: _time);

        var generate = await Assert.ThrowsAsync<InferenceException>(() => backend.GenerateAsync(Request(), CancellationToken.None));
        var list = await Assert.ThrowsAsync<InferenceException>(() => backend.ListModelsAsync(CancellationToken.None));

        Assert.Equal(InferenceFailure.Unreachable, generate.Kind);
        Assert.Equal(InferenceFailure.Unreachable, list.Kind);
    }
}
