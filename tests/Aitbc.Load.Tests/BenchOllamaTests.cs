using System.Text;
using System.Text.Json;

namespace Aitbc.Load.Tests;

/// <summary>aitbc-load's published figures are measured through this backend: its answer must stay the same few bytes.</summary>
public sealed class BenchOllamaTests
{
    [Fact]
    public async Task Every_generation_gets_one_done_line_without_its_body_being_parsed_and_is_timed()
    {
        await using var backend = await BenchOllama.StartAsync(TimeSpan.Zero, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = backend.Url };

        // Not even JSON: the body is read, never interpreted.
        using var response = await http.PostAsync("api/generate", new StringContent("not json", Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();

        response.EnsureSuccessStatusCode();
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.Matches(
            """^\{"model":"bench:latest","response":"ok","done":true,"total_duration":[1-9][0-9]*,"prompt_eval_count":1,"eval_count":1\}\n$""",
            text);
        Assert.Empty(backend.Requests);
        var (arrived, answered) = backend.LastGenerate;
        Assert.NotEqual(default, arrived);
        Assert.True(answered >= arrived);
    }

    [Fact]
    public async Task Tags_list_only_the_bench_model()
    {
        await using var backend = await BenchOllama.StartAsync(TimeSpan.Zero, CancellationToken.None);
        using var http = new HttpClient { BaseAddress = backend.Url };

        using var tags = JsonDocument.Parse(await http.GetStringAsync("api/tags"));

        var model = Assert.Single(tags.RootElement.GetProperty("models").EnumerateArray());
        Assert.Equal(BenchOllama.Model, model.GetProperty("name").GetString());
    }
}
