using System.Net;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class RegistrationTests : IAsyncLifetime
{
    private readonly string _dir = TempDir.Create("miner-reg");
    private FakeCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await FakeCoordinator.StartNewAsync();

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        TempDir.Delete(_dir);
    }

    [Fact]
    public async Task Registers_its_endpoint_backend_models_capacity_and_price_then_heartbeats()
    {
        await using var ollama = await TestOllama.StartAsync();
        var options = TestMiner.Options(_coordinator.Url, _dir, capacity: 3) with
        {
            BackendInstance = null,
            Backend = new BackendOptions { Url = ollama.Url },
        };
        await using var miner = await TestMiner.StartAsync(options);

        var registration = _coordinator.CallsOf("register").Single();
        var body = registration.Read<MinerRegistration>();
        Assert.Equal(TestMiner.MinerApiKey, registration.MinerKey);
        Assert.Equal(miner.Url, new Uri(body.Endpoint));
        Assert.Equal(["llama3.2:latest", "qwen2.5:0.5b"], body.Models);
        Assert.Equal(3, body.Capacity);
        Assert.Equal("0.01", body.PricePerSecond);
        Assert.Null(body.Gpu);

        await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf("heartbeat").Any()), 5_000);
        var heartbeat = _coordinator.CallsOf("heartbeat").First();
        Assert.Equal(0, heartbeat.Read<MinerHeartbeat>().InFlight);
        Assert.Equal(["llama3.2:latest", "qwen2.5:0.5b"], heartbeat.Read<MinerHeartbeat>().Models);
        // No GPU: utilization is absent, not zero.
        Assert.False(heartbeat.Body.TryGetProperty("gpu_utilization", out _));
    }

    [Fact]
    public async Task Registers_again_when_a_heartbeat_says_the_coordinator_forgot_it()
    {
        await using var miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir));
        var firstKey = _coordinator.AssignKey;

        _coordinator.Fault = CoordinatorFault.ForgetRegistration;

        await Poll.UntilAsync(() => Task.FromResult(_coordinator.Registrations >= 2 && miner.Registered), 10_000);
        Assert.NotEqual(firstKey, _coordinator.AssignKey);
        // The old assign key no longer works; the new one does.
        using var client = Client.Miner.MinerClient.Create();
        var old = await client.AssignAsync(miner.Url, firstKey, TestMiner.Assignment("job-old"));
        var fresh = await client.AssignAsync(miner.Url, _coordinator.AssignKey, TestMiner.Assignment("job-new"));
        Assert.Equal(HttpStatusCode.Unauthorized, old.Status);
        Assert.True(fresh.Accepted);
    }

    [Fact]
    public async Task Keeps_retrying_registration_while_the_coordinator_is_down_and_is_ready_once_registered()
    {
        var port = _coordinator.Port;
        await _coordinator.StopAsync();
        await using var miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir), waitForRegistration: false);
        using var http = new HttpClient { BaseAddress = miner.Url };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("readyz")).StatusCode);
        var early = await Client.Miner.MinerClient.Create().AssignAsync(miner.Url, "anything", TestMiner.Assignment("job-early"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, early.Status);

        await _coordinator.StartAsync();
        Assert.Equal(port, _coordinator.Port);
        await Poll.UntilAsync(() => Task.FromResult(miner.Registered), 10_000);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);
    }

    [Fact]
    public async Task Creates_the_miner_key_once_with_owner_only_permissions_and_reuses_it()
    {
        var options = TestMiner.Options(_coordinator.Url, _dir);
        Core.Crypto.Ed25519PublicKey first;
        await using (var miner = await MinerHost.BuildAsync(options))
        {
            first = miner.PublicKey;
        }
        await using var again = await MinerHost.BuildAsync(options);

        Assert.Equal(first, again.PublicKey);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(options.EffectiveMinerKeyPath));
        }
    }

    [Fact]
    public void Invalid_options_name_the_setting()
    {
        var options = TestMiner.Options(_coordinator.Url, _dir);

        Assert.Contains("Capacity", Assert.Throws<ArgumentException>(() => (options with { Capacity = 0 }).Validate()).Message);
        Assert.Contains("MinerApiKey", Assert.Throws<ArgumentException>(() => (options with { MinerApiKey = null }).Validate()).Message);
        Assert.Contains("Backend", Assert.Throws<ArgumentException>(() => (options with
        {
            BackendInstance = null,
            Backend = new BackendOptions { Kind = BackendKind.Embedded },
        }).Validate()).Message);
    }
}
