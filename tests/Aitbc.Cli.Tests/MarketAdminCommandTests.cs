using Aitbc.Cli.Tests.Infrastructure;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Cli.Tests;

/// <summary><c>aitbc market …</c> and <c>aitbc admin …</c> against a fake coordinator.</summary>
public sealed class MarketAdminCommandTests : IAsyncLifetime
{
    private static readonly MarketMiner Miner = new("aitbc1qminer", ["llama3.2:latest", "tiny"], 4, 1, "0.02", "100", 0.98, true, "2025-01-29T14:50:00.000Z")
    {
        Endpoint = "http://10.0.0.5:8010",
        JobsCompleted = 12,
        JobsFailed = 1,
    };

    private FakeCoordinator _fake = null!;
    private CliHarness _cli = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeCoordinator.StartAsync();
        _fake.Miners = new([Miner with { Endpoint = null, JobsCompleted = null, JobsFailed = null }]);
        _fake.AdminMiners = new([Miner]);
        _fake.Models = new([new MarketModel("llama3.2:latest", 2, "0.01", "0.02", 5)]);
        _fake.Stats = new(1, 2, 4, 1, 20, new Dictionary<string, long> { ["completed"] = 18, ["failed"] = 2 }, 0, "4.5");
        _cli = new CliHarness(null, _fake.Url, FakeCoordinator.ClientKey);
    }

    public async Task DisposeAsync()
    {
        _cli.Dispose();
        await _fake.DisposeAsync();
    }

    [Fact]
    public async Task Market_miners_lists_the_online_miners()
    {
        var text = await _cli.RunAsync("market", "miners");
        var json = (await _cli.RunAsync("market", "miners", "--output", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("aitbc1qminer", text.Stdout);
        Assert.Contains("llama3.2:latest,tiny", text.Stdout);
        Assert.Contains("1/4", text.Stdout);
        Assert.DoesNotContain("ENDPOINT", text.Stdout);
        var miner = Assert.Single(json.GetProperty("miners").EnumerateArray());
        Assert.Equal("0.02", miner.GetProperty("price_per_second").GetString());
        Assert.True(miner.GetProperty("online").GetBoolean());
    }

    [Fact]
    public async Task Market_models_shows_the_price_range_and_free_capacity()
    {
        var text = await _cli.RunAsync("market", "models");
        var json = (await _cli.RunAsync("market", "models", "--output", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("0.01-0.02", text.Stdout);
        var model = Assert.Single(json.GetProperty("models").EnumerateArray());
        Assert.Equal("llama3.2:latest", model.GetProperty("model").GetString());
        Assert.Equal(5, model.GetProperty("free_capacity").GetInt32());
    }

    [Fact]
    public async Task Market_stats_shows_the_totals()
    {
        var text = await _cli.RunAsync("market", "stats");
        var json = (await _cli.RunAsync("market", "stats", "--output", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("1 of 2", text.Stdout);
        Assert.Contains("completed 18, failed 2", text.Stdout);
        Assert.Contains("4.5 AITBC", text.Stdout);
        Assert.Equal("4.5", json.GetProperty("total_paid").GetString());
        Assert.Equal(18, json.GetProperty("jobs_by_status").GetProperty("completed").GetInt64());
    }

    [Fact]
    public async Task Market_without_a_key_exits_4()
    {
        _cli.Env.Remove("CLIENT_API_KEY");

        var result = await _cli.RunAsync("market", "stats");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("CLIENT_API_KEY", result.Stderr);
    }

    [Fact]
    public async Task Admin_keys_create_sends_the_role_and_binding_and_prints_the_key_once()
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;
        using var wallet = InProcessNode.Key("admin-test-client");

        var result = await _cli.RunAsync("admin", "keys", "create", "--role", "client", "--address", wallet.Address.Value);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("aitbc_sk_new", result.Stdout);
        Assert.Contains("not shown again", result.Stdout);
        Assert.Equal(new ApiKeyRequest("client", wallet.Address.Value), _fake.LastKeyRequest);
    }

    [Fact]
    public async Task Admin_keys_create_for_a_miner_binds_its_public_key()
    {
        _cli.Env["ADMIN_API_KEY"] = FakeCoordinator.AdminKey;
        using var miner = InProcessNode.Key("admin-test-miner");

        var json = (await _cli.RunAsync("admin", "keys", "create", "--role", "miner", "--miner-pub-key", miner.PublicKey.Base64, "--output", "json")).Json();

        Assert.Equal("miner", json.GetProperty("role").GetString());
        Assert.Equal("aitbc_sk_new", json.GetProperty("key").GetString());
        Assert.Equal(new ApiKeyRequest("miner", null, miner.PublicKey.Base64), _fake.LastKeyRequest);
    }

    [Fact]
    public async Task Admin_keys_revoke_deletes_the_key_by_its_id()
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "keys", "revoke", "3f9a0c21b7de");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Key 3f9a0c21b7de revoked.", result.Stdout);
        Assert.Equal("3f9a0c21b7de", _fake.LastRevokedKey);
    }

    [Fact]
    public async Task Admin_keys_revoke_of_an_unknown_key_fails_with_the_coordinators_reason()
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "keys", "revoke", "000000000000");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("no such key", result.Stderr);
        Assert.Null(_fake.LastRevokedKey);
    }

    [Theory]
    [InlineData("ak_3f9a0c21b7de.c2VjcmV0", "not the key itself")]
    [InlineData("3F9A0C21B7DE", "12 lower-case hex digits")]
    [InlineData("3f9a0c", "12 lower-case hex digits")]
    public async Task Admin_keys_revoke_checks_the_id_before_sending_anything(string id, string message)
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "keys", "revoke", id);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Stderr);
        Assert.Equal(0, _fake.Requests);
    }

    [Theory]
    [InlineData("client")]
    [InlineData("miner")]
    public async Task Admin_keys_create_without_the_binding_is_a_usage_error(string role)
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "keys", "create", "--role", role);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(role == "client" ? "--address" : "--miner-pub-key", result.Stderr);
        Assert.Equal(0, _fake.Requests);
    }

    [Fact]
    public async Task Admin_commands_never_send_the_client_key()
    {
        var result = await _cli.RunAsync("admin", "miners");

        Assert.Equal(4, result.ExitCode);
        Assert.Contains("no key is set", result.Stderr);
        Assert.Contains("AITBC_ADMIN_KEY", result.Stderr);
    }

    [Fact]
    public async Task A_client_key_on_an_admin_command_is_a_403_exit_4()
    {
        var result = await _cli.RunAsync("admin", "jobs", "--api-key", FakeCoordinator.ClientKey);

        Assert.Equal(4, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("HTTP 403: this endpoint needs an admin key", line);
        Assert.Contains("AITBC_ADMIN_KEY", line);
    }

    [Fact]
    public async Task Admin_jobs_filters_by_status()
    {
        _fake.AddJob(FakeCoordinator.Completed("job_1"));
        _fake.AddJob(FakeCoordinator.Pending("job_2") with { Status = JobStatus.Failed, Error = "boom" });
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var json = (await _cli.RunAsync("admin", "jobs", "--status", "failed", "--output", "json")).Json();

        Assert.Equal("failed", _fake.LastAdminStatus);
        Assert.Equal("job_2", Assert.Single(json.GetProperty("jobs").EnumerateArray()).GetProperty("job_id").GetString());
    }

    [Fact]
    public async Task Admin_jobs_rejects_an_unknown_status()
    {
        var result = await _cli.RunAsync("admin", "jobs", "--status", "lost");

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Admin_miners_shows_endpoints_and_job_counts()
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "miners");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ENDPOINT", result.Stdout);
        Assert.Contains("http://10.0.0.5:8010", result.Stdout);
    }

    [Fact]
    public async Task A_bad_miner_public_key_is_a_usage_error()
    {
        _cli.Env["AITBC_ADMIN_KEY"] = FakeCoordinator.AdminKey;

        var result = await _cli.RunAsync("admin", "keys", "create", "--role", "miner", "--miner-pub-key", "not-a-key");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("base64 Ed25519 public key", result.Stderr);
    }
}
