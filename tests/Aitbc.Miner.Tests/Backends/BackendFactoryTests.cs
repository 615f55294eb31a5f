using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Infrastructure;

namespace Aitbc.Miner.Tests.Backends;

public sealed class BackendFactoryTests(TestModelFixture model) : IClassFixture<TestModelFixture>
{
    [Theory]
    [InlineData("ollama", BackendKind.Ollama)]
    [InlineData(" OpenAI ", BackendKind.OpenAi)]
    [InlineData("embedded", BackendKind.Embedded)]
    public void Parses_the_kind_words(string text, BackendKind kind) => Assert.Equal(kind, BackendOptions.ParseKind(text));

    [Fact]
    public void An_unknown_kind_names_the_choices()
    {
        var error = Assert.Throws<BackendOptionsException>(() => BackendOptions.ParseKind("tgi"));

        Assert.Contains("'tgi'", error.Message);
        Assert.Contains("ollama, openai or embedded", error.Message);
    }

    [Fact]
    public void Ollama_is_the_default_on_its_usual_port()
    {
        var options = new BackendOptions();

        Assert.Empty(options.Validate());
        Assert.Equal(new Uri("http://127.0.0.1:11434/"), options.EffectiveUrl);
        Assert.IsType<OllamaBackend>(BackendFactory.Create(options));
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var options = new BackendOptions
        {
            Kind = BackendKind.Embedded,
            ModelPath = "/nowhere/model.gguf",
            Threads = 0,
            ContextSize = 8,
            RequestTimeout = TimeSpan.FromSeconds(-1),
        };

        var error = Assert.Throws<BackendOptionsException>(() => BackendFactory.Create(options));

        Assert.Equal(4, error.Errors.Count);
        Assert.Contains(error.Errors, e => e.Contains("'/nowhere/model.gguf' does not exist"));
        Assert.Contains(error.Errors, e => e.Contains("threads"));
        Assert.Contains(error.Errors, e => e.Contains("context size"));
        Assert.Contains(error.Errors, e => e.Contains("request timeout"));
    }

    [Fact]
    public void The_openai_backend_needs_an_http_url()
    {
        var missing = new BackendOptions { Kind = BackendKind.OpenAi }.Validate();
        var wrongScheme = new BackendOptions { Kind = BackendKind.OpenAi, Url = new Uri("ftp://host/") }.Validate();

        Assert.Contains("needs a URL", Assert.Single(missing));
        Assert.Contains("http or https", Assert.Single(wrongScheme));
    }

    [Fact]
    public async Task Builds_an_openai_backend_that_reaches_its_server()
    {
        await using var server = await FakeOpenAiServer.StartNewAsync(new());
        var options = new BackendOptions { Kind = BackendKind.OpenAi, Url = server.Url, ApiKey = "k" };

        var backend = BackendFactory.Create(options);

        Assert.IsType<OpenAiCompatibleBackend>(backend);
        Assert.Contains("Qwen/Qwen2.5-0.5B-Instruct", await backend.ListModelsAsync(CancellationToken.None));
        Assert.Equal("Bearer k", Assert.Single(server.Authorizations));
    }

    [Fact]
    public async Task Builds_the_embedded_backend_from_a_model_path()
    {
        var options = new BackendOptions { Kind = BackendKind.Embedded, ModelPath = model.ModelPath, ModelName = "tiny-2", Threads = 1 };

        using var backend = Assert.IsType<EmbeddedLlamaBackend>(BackendFactory.Create(options));

        Assert.Equal(["tiny-2"], await backend.ListModelsAsync(CancellationToken.None));
    }
}
