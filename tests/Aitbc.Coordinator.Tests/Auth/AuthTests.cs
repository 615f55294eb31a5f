using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Auth;

[Collection(CoordinatorCollection.Name)]
public sealed class AuthTests(CoordinatorFixture fixture)
{
    [Fact]
    public async Task Missing_key_is_401_with_a_problem_body()
    {
        using var http = fixture.Coordinator.Http();
        using var response = await http.GetAsync("v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("ak_0123456789ab.wrongsecret")]
    [InlineData("test-admin-key-0123456789x")]
    public async Task Invalid_key_is_401(string key)
    {
        using var http = fixture.Coordinator.Http(key);
        using var response = await http.GetAsync("v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Admin_creates_a_client_key_that_is_stored_only_as_a_hash()
    {
        var address = fixture.Node.Funded[20].Address.Value;
        using var response = await fixture.Admin.PostAsJsonAsync("v1/admin/keys", new { role = "client", address });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var key = body.RootElement.GetProperty("key").GetString()!;
        var id = body.RootElement.GetProperty("key_id").GetString()!;
        Assert.Equal(address, body.RootElement.GetProperty("address").GetString());

        var stored = await fixture.Coordinator.Store.GetApiKeyAsync(id, default);
        Assert.NotNull(stored);
        Assert.DoesNotContain(key, stored.KeyHash, StringComparison.Ordinal);
        Assert.Equal(ApiKeys.Hash(key), stored.KeyHash);

        using var client = fixture.Coordinator.Http(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/jobs")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_401_on_its_next_request()
    {
        var key = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "client", address = fixture.Node.Funded[21].Address.Value });
        using var client = fixture.Coordinator.Http(key);
        // The row is now held in memory: the revocation must reach it.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/jobs")).StatusCode);

        using var revoked = await fixture.Admin.DeleteAsync($"v1/admin/keys/{ApiKeys.IdOf(key)}");
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("v1/jobs")).StatusCode);
        using var again = await fixture.Admin.DeleteAsync($"v1/admin/keys/{ApiKeys.IdOf(key)}");
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task Revoking_an_unknown_key_is_404_and_the_bootstrap_admin_key_409()
    {
        using var unknown = await fixture.Admin.DeleteAsync("v1/admin/keys/0123456789ab");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var bootstrap = await fixture.Admin.DeleteAsync($"v1/admin/keys/{ApiKeys.BootstrapAdminId}");
        Assert.Equal(HttpStatusCode.Conflict, bootstrap.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Admin.GetAsync("v1/admin/jobs")).StatusCode);
    }

    [Fact]
    public async Task A_wrong_secret_for_a_key_id_held_in_memory_is_401()
    {
        var key = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "client", address = fixture.Node.Funded[22].Address.Value });
        using var client = fixture.Coordinator.Http(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/jobs")).StatusCode);

        var forged = key[..(key.IndexOf('.', StringComparison.Ordinal) + 1)] + new string('A', 43);
        using var forger = fixture.Coordinator.Http(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, (await forger.GetAsync("v1/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("v1/jobs")).StatusCode);
    }

    [Theory]
    [InlineData("{\"role\":\"root\"}", "role")]
    [InlineData("{\"role\":\"client\"}", "address")]
    [InlineData("{\"role\":\"client\",\"address\":\"aitbc1notanaddress\"}", "address")]
    [InlineData("{\"role\":\"miner\",\"miner_pub_key\":\"short\"}", "miner_pub_key")]
    [InlineData("{\"role\":\"admin\",\"address\":\"aitbc1xyz\"}", "address")]
    public async Task Key_requests_with_bad_fields_are_400_naming_the_field(string json, string field)
    {
        using var response = await fixture.Admin.PostAsync("v1/admin/keys", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(body.RootElement.GetProperty("errors").TryGetProperty(field, out _), body.RootElement.ToString());
    }

    [Fact]
    public async Task Client_key_cannot_create_keys()
    {
        using var client = await fixture.ClientAsync(0, allowance: "0");
        using var response = await client.Http.PostAsJsonAsync("v1/admin/keys", new { role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Miner_key_cannot_submit_jobs_in_either_header()
    {
        using var miner = Core.Crypto.Ed25519KeyPair.Generate();
        var key = await CoordinatorFixture.CreateKeyAsync(fixture.Admin, new { role = "miner", miner_pub_key = miner.PublicKey.Base64 });
        foreach (var header in new[] { "X-Miner-Key", "X-Api-Key" })
        {
            using var http = fixture.Coordinator.Http(key, header);
            using var response = await http.PostAsync("v1/jobs", new StringContent(Bodies.Flat(), System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task A_client_cannot_read_or_cancel_another_clients_job_but_an_admin_can_read_it()
    {
        using var owner = await fixture.ClientAsync(1);
        using var other = await fixture.ClientAsync(2, allowance: "0");
        var jobId = await owner.SubmitOkAsync(Bodies.Flat());

        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.PostAsync($"v1/jobs/{jobId}/cancel", null)).StatusCode);
        using var otherList = JsonDocument.Parse(await other.Http.GetStringAsync("v1/jobs"));
        Assert.Empty(otherList.RootElement.GetProperty("jobs").EnumerateArray());

        using var asAdmin = await fixture.Admin.GetAsync($"v1/jobs/{jobId}");
        Assert.Equal(HttpStatusCode.OK, asAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.Http.GetAsync("v1/jobs/job_doesnotexist")).StatusCode);
    }
}
