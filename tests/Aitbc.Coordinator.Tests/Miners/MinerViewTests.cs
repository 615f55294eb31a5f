using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Miners;

[Collection(CoordinatorCollection.Name)]
public sealed class MinerViewTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Registration_is_validated_and_a_forgotten_miner_is_told_to_register_again()
    {
        var key = fixture.Node.Funded[48];
        var apiKey = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "miner", miner_pub_key = key.PublicKey.Base64 });
        using var miner = fixture.Coordinator.Http(apiKey, "X-Miner-Key");

        using (var heartbeat = await miner.PostAsJsonAsync("v1/miners/heartbeat", new MinerHeartbeat(["m"], 0), RestJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, heartbeat.StatusCode);
            Assert.False((await heartbeat.Content.ReadFromJsonAsync<HeartbeatAck>(RestJson.Options))!.Registered);
        }
        using (var bad = await miner.PostAsJsonAsync("v1/miners/register", new MinerRegistration("ftp://x", ["bad model!"], 0, "0"), RestJson.Options))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            var text = await bad.Content.ReadAsStringAsync();
            foreach (var field in new[] { "endpoint", "models[0]", "capacity", "price_per_second" })
            {
                Assert.Contains($"\"{field}\"", text);
            }
        }
        using (var dear = await miner.PostAsJsonAsync("v1/miners/register", new MinerRegistration("http://127.0.0.1:1/", ["m"], 1, "100.000001"), RestJson.Options))
        {
            Assert.Equal(HttpStatusCode.BadRequest, dear.StatusCode);
        }
        using var client = await fixture.ClientAsync(44, allowance: "0");
        using (var wrongRole = await client.Http.PostAsJsonAsync("v1/miners/register", new MinerRegistration("http://127.0.0.1:1/", ["m"], 1, "1"), RestJson.Options))
        {
            Assert.Equal(HttpStatusCode.Forbidden, wrongRole.StatusCode);
        }
        using var ok = await miner.PostAsJsonAsync("v1/miners/register", new MinerRegistration("http://127.0.0.1:1/", ["m"], 2, "0.5"), RestJson.Options);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var registered = (await ok.Content.ReadFromJsonAsync<MinerRegistered>(RestJson.Options))!;
        Assert.Equal(key.Address.Value, registered.MinerId);
        Assert.Equal("online", registered.Status);
        Assert.Equal(5, registered.HeartbeatIntervalSeconds);
        Assert.Equal(43, registered.AssignKey.Length);
    }

    [Fact]
    public async Task Market_explorer_and_admin_views_show_miners_jobs_and_chain_activity()
    {
        using var client = await fixture.ClientAsync(45);
        await using var miner = await FakeMiner.StartAsync(fixture, 46, "view-model", price: "0.25", capacity: 3);
        var jobId = await client.SubmitOkAsync(Bodies.Flat(model: "view-model"));
        var receiptId = (await client.GetJobAsync(jobId, "?wait=10")).GetProperty("receipt_id").GetString()!;

        var miners = await GetAsync<MarketMiners>(client.Http, "v1/market/miners");
        var listed = Assert.Single(miners.Miners, m => m.Address == miner.Address.Value);
        Assert.Equal("0.25", listed.PricePerSecond);
        Assert.Equal("100", listed.Stake);
        Assert.True(listed.Online);
        Assert.Null(listed.Endpoint);
        Assert.Equal("Fake GPU", listed.Gpu!.Name);

        var models = await GetAsync<MarketModels>(miner.Coordinator, "v1/market/models");
        var model = Assert.Single(models.Models, m => m.Model == "view-model");
        Assert.Equal(1, model.Miners);
        Assert.Equal(3, model.FreeCapacity);

        var stats = await GetAsync<MarketStats>(client.Http, "v1/market/stats");
        Assert.True(stats.JobsByStatus["completed"] >= 1);
        Assert.True(stats.MinersOnline >= 1);

        var blocks = await GetAsync<ExplorerBlocks>(client.Http, "v1/explorer/blocks?limit=5");
        // Run alone, this test's own transactions make only a few blocks.
        Assert.Equal(Math.Min(5, blocks.LatestHeight), blocks.Blocks.Count);
        Assert.Equal(blocks.LatestHeight, blocks.Blocks[0].Height);
        Assert.True(blocks.Blocks[0].Height > blocks.Blocks[1].Height);
        if (blocks.LatestHeight > 5)
        {
            var older = await GetAsync<ExplorerBlocks>(client.Http, $"v1/explorer/blocks?limit=5&cursor={blocks.NextCursor}");
            Assert.Equal(blocks.Blocks[^1].Height - 1, older.Blocks[0].Height);
        }

        var txs = await GetAsync<ExplorerTransactions>(client.Http, "v1/explorer/transactions?limit=10");
        Assert.InRange(txs.Transactions.Count, 4, 10);
        Assert.True(txs.Transactions[0].Height >= txs.Transactions[^1].Height);
        Assert.Contains(txs.Transactions, t => t.Type == "record_receipt" || t.Type == "submit_job");

        await Poll.UntilAsync(async () => (await GetAsync<ExplorerReceipts>(client.Http, "v1/explorer/receipts?limit=100")).Receipts
            .Any(r => r.ReceiptId == receiptId && r.BlockHeight > 0));

        var adminMiners = await GetAsync<MarketMiners>(fixture.Admin, "v1/admin/miners");
        var seen = Assert.Single(adminMiners.Miners, m => m.Address == miner.Address.Value);
        Assert.Equal(miner.Endpoint.AbsoluteUri, seen.Endpoint);
        Assert.Equal(1, seen.JobsCompleted);
        Assert.True(seen.Reputation > 0.5);

        var adminJobs = await GetAsync<JobPage>(fixture.Admin, "v1/admin/jobs?status=completed&limit=100");
        var view = Assert.Single(adminJobs.Jobs, j => j.JobId == jobId);
        Assert.Equal(client.Address.Value, view.Client);
        Assert.All(adminJobs.Jobs, j => Assert.Equal("completed", j.Status));

        Assert.Equal(HttpStatusCode.Forbidden, (await client.Http.GetAsync("v1/admin/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await miner.Coordinator.GetAsync("v1/admin/miners")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await fixture.Admin.GetAsync("v1/admin/jobs?status=lost")).StatusCode);
        using var anonymous = fixture.Coordinator.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("v1/market/miners")).StatusCode);
    }

    [Theory]
    [InlineData("v1/explorer/blocks?limit=21", "limit")]
    [InlineData("v1/explorer/blocks?cursor=abc", "cursor")]
    [InlineData("v1/explorer/transactions?limit=0", "limit")]
    [InlineData("v1/explorer/receipts?cursor=%%%", "cursor")]
    [InlineData("v1/admin/jobs?limit=101", "limit")]
    public async Task Bad_paging_is_400_naming_the_parameter(string path, string field)
    {
        using var response = await fixture.Admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = body.RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _));
        Assert.Single(errors.EnumerateObject());
    }

    [Fact]
    public async Task A_miner_key_is_accepted_in_x_api_key_too()
    {
        var key = fixture.Node.Funded[62];
        var apiKey = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "miner", miner_pub_key = key.PublicKey.Base64 });
        using var miner = fixture.Coordinator.Http(apiKey);
        using var response = await miner.PostAsJsonAsync("v1/miners/register", new MinerRegistration("http://127.0.0.1:1/", ["x-api-key-model"], 1, "1"), RestJson.Options);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True((await (await miner.PostAsJsonAsync("v1/miners/heartbeat", new MinerHeartbeat(["x-api-key-model"], 0), RestJson.Options))
            .Content.ReadFromJsonAsync<HeartbeatAck>(RestJson.Options))!.Registered);
    }

    private static async Task<T> GetAsync<T>(HttpClient http, string path)
    {
        using var response = await http.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<T>(text, RestJson.Options)!;
    }
}
