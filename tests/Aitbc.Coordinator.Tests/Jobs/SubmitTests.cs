using System.Net;
using System.Text;
using System.Text.Json;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core;

namespace Aitbc.Coordinator.Tests.Jobs;

/// <summary>Run on SQLite (<see cref="SubmitTestsOnSqlite"/>) and on PostgreSQL (<see cref="SubmitTestsOnPostgres"/>).</summary>
public abstract class SubmitTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Flat_seed_body_is_accepted_and_escrows_max_price_on_chain()
    {
        using var client = await fixture.ClientAsync(3);
        var before = await fixture.BalanceAsync(client.Address);

        using var response = await client.SubmitAsync(Bodies.Flat(maxPrice: "2.5"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var jobId = body.RootElement.GetProperty("job_id").GetString()!;
        Assert.Equal("pending", body.RootElement.GetProperty("status").GetString());
        Assert.True(DateTimeOffset.TryParse(body.RootElement.GetProperty("submitted_at").GetString(), out _));
        Assert.Equal($"/v1/jobs/{jobId}", response.Headers.Location?.OriginalString);

        var escrow = await fixture.EscrowAsync(jobId);
        Assert.Equal(client.Address, escrow.Client);
        Assert.Equal(fixture.Node.Coordinators[0].Address, escrow.Coordinator);
        Assert.Equal(Amount.ParseAitbc("2.5"), escrow.Amount);
        Assert.Equal(before - Amount.ParseAitbc("2.5"), await fixture.BalanceAsync(client.Address));

        var job = await client.GetJobAsync(jobId);
        Assert.Equal("pending", job.GetProperty("status").GetString());
        Assert.Equal("llama3.2:latest", job.GetProperty("model").GetString());
        Assert.False(job.TryGetProperty("result", out _));
    }

    [Fact]
    public async Task Payload_form_is_accepted_with_the_default_budget_and_its_payload_hash_on_chain()
    {
        using var client = await fixture.ClientAsync(4);
        var json = """{"payload":{"type":"inference","prompt":"hi","model":"tiny"},"ttl_seconds":120}""";
        var jobId = await client.SubmitOkAsync(json);

        var escrow = await fixture.EscrowAsync(jobId);
        Assert.Equal(fixture.Coordinator.Options.DefaultMaxPrice, escrow.Amount);
        var expectedHash = new Coordinator.Jobs.JobSubmission("inference", "hi", "tiny", [], escrow.Amount, 120).PayloadHash();
        Assert.Equal(expectedHash, escrow.PayloadHash);
    }

    [Fact]
    public async Task No_allowance_is_402_and_leaves_no_job()
    {
        using var client = await fixture.ClientAsync(5, allowance: "0");
        var before = await fixture.BalanceAsync(client.Address);

        using var response = await client.SubmitAsync(Bodies.Flat(), idempotencyKey: "first-try");
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("allow", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        using var list = JsonDocument.Parse(await client.Http.GetStringAsync("v1/jobs"));
        Assert.Empty(list.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Null(await fixture.Coordinator.Store.FindJobByIdempotencyKeyAsync(KeyIdOf(client.ApiKey), "first-try", default));
        Assert.Equal(before, await fixture.BalanceAsync(client.Address));
    }

    [Fact]
    public async Task Budget_above_the_allowance_is_402()
    {
        using var client = await fixture.ClientAsync(6, allowance: "1");
        using var response = await client.SubmitAsync(Bodies.Flat(maxPrice: "5"));
        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"type":"training","prompt":"p","model":"m"}""", "type")]
    [InlineData("""{"prompt":"p","model":"m"}""", "type")]
    [InlineData("""{"type":"inference","prompt":"","model":"m"}""", "prompt")]
    [InlineData("""{"type":"inference","prompt":"   ","model":"m"}""", "prompt")]
    [InlineData("""{"type":"inference","model":"m"}""", "prompt")]
    [InlineData("""{"type":"inference","prompt":42,"model":"m"}""", "prompt")]
    [InlineData("""{"type":"inference","prompt":"p","model":"bad model!"}""", "model")]
    [InlineData("""{"type":"inference","prompt":"p","model":""}""", "model")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"temperature":2.5}}""", "options.temperature")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"temperature":"hot"}}""", "options.temperature")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"num_predict":0}}""", "options.num_predict")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"num_predict":9000}}""", "options.num_predict")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"seed":1.5}}""", "options.seed")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":{"top_k":5}}""", "options.top_k")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","options":[]}""", "options")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","max_price":0.5}""", "max_price")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","max_price":"0"}""", "max_price")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","max_price":"-1"}""", "max_price")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","max_price":"0.0000001"}""", "max_price")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","max_price":"1001"}""", "max_price")]
    [InlineData("""{"payload":"text"}""", "payload")]
    [InlineData("""{"payload":{"type":"inference","prompt":"","model":"m"}}""", "payload.prompt")]
    [InlineData("""{"payload":{"type":"inference","prompt":"p","model":"m"},"ttl_seconds":0}""", "ttl_seconds")]
    [InlineData("""{"payload":{"type":"inference","prompt":"p","model":"m"},"ttl_seconds":"60"}""", "ttl_seconds")]
    public async Task Invalid_field_is_400_naming_it(string json, string field)
    {
        using var client = await ValidationClientAsync();
        using var response = await client.SubmitAsync(json);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, text);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(text);
        Assert.True(body.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
    }

    [Fact]
    public async Task Prompt_over_the_limit_is_400()
    {
        using var client = await ValidationClientAsync();
        using var response = await client.SubmitAsync(Bodies.Flat(prompt: new string('x', fixture.Coordinator.Options.MaxPromptBytes + 1)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("prompt", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"inference","type":"inference","prompt":"p","model":"m"}""")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","extra":1e400}""")]
    [InlineData("""{"type":"inference","prompt":"p","model":"m","extra":"\ud800"}""")]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("[1,2,3]")]
    [InlineData("\"a string\"")]
    public async Task Malformed_json_is_400(string json)
    {
        using var client = await ValidationClientAsync();
        using var response = await client.SubmitAsync(json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Body_over_the_limit_is_413()
    {
        using var client = await ValidationClientAsync();
        using var response = await client.SubmitAsync(Bodies.Flat(prompt: new string('x', (int)fixture.Coordinator.Options.MaxRequestBodyBytes + 10)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Non_json_content_type_is_415()
    {
        using var client = await ValidationClientAsync();
        using var response = await client.Http.PostAsync("v1/jobs", new StringContent(Bodies.Flat(), Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Retry_with_the_same_idempotency_key_returns_the_first_job_and_escrows_once()
    {
        using var client = await fixture.ClientAsync(7);
        var before = await fixture.BalanceAsync(client.Address);
        var body = Bodies.Flat(maxPrice: "3");

        var first = await client.SubmitOkAsync(body, "retry-1");
        // The same body re-spelled (whitespace) is the same request.
        var second = await client.SubmitOkAsync(body.Replace(",", ", ", StringComparison.Ordinal), "retry-1");
        var third = await client.SubmitOkAsync(body, "retry-1");
        Assert.Equal(first, second);
        Assert.Equal(first, third);

        await fixture.EscrowAsync(first);
        Assert.Equal(before - Amount.ParseAitbc("3"), await fixture.BalanceAsync(client.Address));
        using var list = JsonDocument.Parse(await client.Http.GetStringAsync("v1/jobs"));
        Assert.Single(list.RootElement.GetProperty("jobs").EnumerateArray());
        Assert.Single(await fixture.Coordinator.Store.OutboxForJobAsync(first, default));

        using var reused = await client.SubmitAsync(Bodies.Flat(prompt: "something else"), "retry-1");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, reused.StatusCode);
    }

    [Fact]
    public async Task Concurrent_retries_with_one_idempotency_key_make_one_job()
    {
        using var client = await fixture.ClientAsync(8);
        var ids = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => client.SubmitOkAsync(Bodies.Flat(maxPrice: "1"), "burst")));
        Assert.Single(ids.Distinct());
    }

    [Fact]
    public async Task Listing_is_newest_first_and_paginated_by_cursor()
    {
        using var client = await fixture.ClientAsync(9);
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await client.SubmitOkAsync(Bodies.Flat(prompt: $"p{i}", maxPrice: "1")));
        }
        using var page1 = JsonDocument.Parse(await client.Http.GetStringAsync("v1/jobs?limit=2"));
        var cursor = page1.RootElement.GetProperty("next_cursor").GetString();
        using var page2 = JsonDocument.Parse(await client.Http.GetStringAsync($"v1/jobs?limit=2&cursor={cursor}"));
        var listed = page1.RootElement.GetProperty("jobs").EnumerateArray().Concat(page2.RootElement.GetProperty("jobs").EnumerateArray())
            .Select(j => j.GetProperty("job_id").GetString()).ToList();
        Assert.Equal(ids.AsEnumerable().Reverse(), listed);
        Assert.False(page2.RootElement.TryGetProperty("next_cursor", out _));

        Assert.Equal(HttpStatusCode.BadRequest, (await client.Http.GetAsync("v1/jobs?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.Http.GetAsync("v1/jobs?cursor=%%%")).StatusCode);
    }

    /// <summary>A client with no allowance: validation answers before the chain is asked, so none is needed.</summary>
    private async Task<TestClient> ValidationClientAsync()
    {
        var key = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "client", address = fixture.Node.Funded[23].Address.Value });
        return new TestClient(fixture.Node.Funded[23].Address, fixture.Coordinator.Http(key), key);
    }

    private static string KeyIdOf(string apiKey) => Coordinator.Auth.ApiKeys.IdOf(apiKey);
}

[Collection(CoordinatorCollection.Name)]
public sealed class SubmitTestsOnSqlite(CoordinatorFixture fixture) : SubmitTests(fixture);

[Collection(PostgresCoordinatorCollection.Name)]
public sealed class SubmitTestsOnPostgres(PostgresCoordinatorFixture fixture) : SubmitTests(fixture);
