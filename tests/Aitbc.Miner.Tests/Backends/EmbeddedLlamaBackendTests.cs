using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Aitbc.Miner.Tests.Backends;

public sealed class EmbeddedLlamaBackendTests(TestModelFixture model, ITestOutputHelper output) : IClassFixture<TestModelFixture>
{
    private static InferenceRequest Request(int numPredict = 24, long? seed = 7, string model = "tiny") =>
        new(model, "hello world, the miner runs", new InferenceOptions(0.8, numPredict, seed));

    [Fact]
    public async Task Generates_readable_text_with_token_counts()
    {
        var result = await model.Backend.GenerateAsync(Request(), CancellationToken.None);

        Assert.False(string.IsNullOrWhiteSpace(result.Text));
        Assert.DoesNotContain('\uFFFD', result.Text);
        Assert.InRange(result.Metrics.TokensGenerated, 1, 24);
        Assert.True(result.Metrics.PromptTokens > 0);
        Assert.True(result.Metrics.ComputeTime > 0);
        output.WriteLine($"{result.Metrics.TokensGenerated} tokens in {result.Metrics.ComputeTime * 1000:0.0} ms: {result.Text}");
    }

    [Fact]
    public async Task Runs_at_a_measurable_rate_on_the_test_model()
    {
        await model.Backend.GenerateAsync(Request(numPredict: 8), CancellationToken.None);

        var result = await model.Backend.GenerateAsync(Request(numPredict: 200, seed: 3), CancellationToken.None);

        Assert.True(result.Metrics.TokensGenerated > 0);
        output.WriteLine($"{result.Metrics.TokensGenerated / result.Metrics.ComputeTime:0} tokens/s "
            + $"({result.Metrics.TokensGenerated} tokens in {result.Metrics.ComputeTime * 1000:0.0} ms, one thread)");
    }

    [Fact]
    public async Task Num_predict_caps_the_tokens_generated()
    {
        var result = await model.Backend.GenerateAsync(Request(numPredict: 3), CancellationToken.None);

        Assert.InRange(result.Metrics.TokensGenerated, 1, 3);
    }

    [Fact]
    public async Task Same_seed_gives_the_same_text_and_another_seed_another()
    {
        var first = await model.Backend.GenerateAsync(Request(numPredict: 32, seed: 11), CancellationToken.None);
        var again = await model.Backend.GenerateAsync(Request(numPredict: 32, seed: 11), CancellationToken.None);
        var other = await model.Backend.GenerateAsync(Request(numPredict: 32, seed: 12), CancellationToken.None);

        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.Text, other.Text);
    }

    [Fact]
    public async Task Concurrent_jobs_on_one_model_do_not_disturb_each_other()
    {
        var alone = await model.Backend.GenerateAsync(Request(numPredict: 32, seed: 5), CancellationToken.None);

        var together = await Task.WhenAll(
            Enumerable.Range(0, 3).Select(_ => model.Backend.GenerateAsync(Request(numPredict: 32, seed: 5), CancellationToken.None)));

        Assert.All(together, r => Assert.Equal(alone.Text, r.Text));
    }

    [Fact]
    public async Task Cancelling_stops_generation_mid_way()
    {
        using var cts = new CancellationTokenSource();
        var seen = 0;
        void OnToken(int count)
        {
            seen = count;
            if (count == 5)
            {
                cts.Cancel();
            }
        }
        model.Backend.TokenGenerated += OnToken;
        try
        {
            var error = await Assert.ThrowsAsync<InferenceException>(
                () => model.Backend.GenerateAsync(Request(numPredict: 400), cts.Token));

            Assert.Equal(InferenceFailure.Cancelled, error.Kind);
            Assert.InRange(seen, 5, 6);
        }
        finally
        {
            model.Backend.TokenGenerated -= OnToken;
        }
    }

    [Fact]
    public async Task Lists_its_one_model_and_refuses_others()
    {
        Assert.Equal(["tiny"], await model.Backend.ListModelsAsync(CancellationToken.None));

        var error = await Assert.ThrowsAsync<InferenceException>(
            () => model.Backend.GenerateAsync(Request(model: "llama3.2"), CancellationToken.None));
        Assert.Equal(InferenceFailure.ModelNotFound, error.Kind);
        Assert.Contains("llama3.2", error.Message);
    }

    [Fact]
    public void A_missing_file_is_model_not_found()
    {
        var path = Path.Combine(model.Directory, "absent.gguf");

        var error = Assert.Throws<InferenceException>(() => EmbeddedLlamaBackend.Load(path));

        Assert.Equal(InferenceFailure.ModelNotFound, error.Kind);
        Assert.Contains(path, error.Message);
    }

    [Fact]
    public void A_corrupt_file_is_a_clear_backend_error()
    {
        var path = Path.Combine(model.Directory, "corrupt.gguf");
        var bytes = File.ReadAllBytes(model.ModelPath);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);

        var logger = new ListLogger();

        var error = Assert.Throws<InferenceException>(() => EmbeddedLlamaBackend.Load(path, logger: logger));

        Assert.Equal(InferenceFailure.BackendError, error.Kind);
        Assert.Contains(path, error.Message);
        Assert.Contains("not within the file bounds", error.Message);
        Assert.Contains(logger.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("not within the file bounds"));
    }
}
