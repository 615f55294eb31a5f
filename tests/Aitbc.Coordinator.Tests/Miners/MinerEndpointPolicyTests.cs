using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aitbc.Client.Miner;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Core.Crypto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Miners;

/// <summary>
/// Where a miner key may make the coordinator send requests: registration refuses endpoints inside the coordinator's own
/// network unless it runs in development mode, and the push client connects to public addresses only and follows no redirect.
/// </summary>
[Collection(CoordinatorCollection.Name)]
public sealed class MinerEndpointPolicyTests(CoordinatorFixture fixture)
{
    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.8.9.10", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.20.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("224.0.0.1", false)]
    [InlineData("255.255.255.255", false)]
    [InlineData("::", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd12:3456::1", false)]
    [InlineData("ff02::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2606:4700::1111", true)]
    [InlineData("::ffff:8.8.8.8", true)]
    public void Only_public_unicast_addresses_are_public(string address, bool isPublic) =>
        Assert.Equal(isPublic, MinerEndpointPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://127.0.0.1:8010", "not a public address")]
    [InlineData("http://[::1]:8010/", "not a public address")]
    [InlineData("http://10.0.0.5:8010", "not a public address")]
    [InlineData("http://169.254.169.254/latest/meta-data", "not a public address")]
    [InlineData("http://0.0.0.0:8010", "not a public address")]
    [InlineData("http://[fd00::1]:8010", "not a public address")]
    [InlineData("http://localhost:8010", "resolves to")]
    [InlineData("http://user:secret@8.8.8.8:8010", "user information")]
    [InlineData("ftp://8.8.8.8/", "http(s)")]
    [InlineData("/v1/jobs/assign", "http(s)")]
    public async Task Registration_refuses_an_endpoint_inside_the_coordinators_network_and_says_why(string endpoint, string why)
    {
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RunScheduler = false, AllowPrivateMinerEndpoints = false });
        using var miner = await MinerHttpAsync(coordinator);

        using var response = await RegisterAsync(miner, endpoint);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(why, body.RootElement.GetProperty("errors").GetProperty("endpoint")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Registration_accepts_a_public_endpoint_and_in_development_mode_a_loopback_one()
    {
        await using (var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RunScheduler = false, AllowPrivateMinerEndpoints = false }))
        {
            using var miner = await MinerHttpAsync(coordinator);
            using var response = await RegisterAsync(miner, "https://8.8.8.8:8010/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        await using (var coordinator = await fixture.StartOwnCoordinatorAsync(o => o with { RunScheduler = false, AllowPrivateMinerEndpoints = true }))
        {
            using var miner = await MinerHttpAsync(coordinator);
            using var response = await RegisterAsync(miner, "http://localhost:8010");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_push_client_does_not_follow_a_miners_redirect()
    {
        await using var listener = await Listener.StartAsync(redirect: true);
        using var client = MinerClient.Create(transport: new MinerEndpointPolicy(new CoordinatorOptions { AllowPrivateMinerEndpoints = true }).CreateHandler());

        var outcome = await client.AssignAsync(listener.Url, "assign-key", Assignment());

        Assert.False(outcome.Accepted);
        Assert.Equal(HttpStatusCode.TemporaryRedirect, outcome.Status);
        Assert.Equal(1, listener.Assigns);
        Assert.Equal(0, listener.Redirected);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Outside_development_mode_the_push_client_does_not_connect_to_a_loopback_miner(string host)
    {
        // As if the endpoint's name had resolved to a public address at registration and to loopback now.
        await using var listener = await Listener.StartAsync(redirect: false);
        using var client = MinerClient.Create(transport: new MinerEndpointPolicy(new CoordinatorOptions()).CreateHandler());

        var endpoint = new UriBuilder(listener.Url) { Host = host }.Uri;
        var failure = await Assert.ThrowsAsync<RestUnavailableException>(() => client.AssignAsync(endpoint, "assign-key", Assignment()));

        Assert.Contains("public address", failure.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, listener.Assigns);
    }

    private static JobAssignment Assignment() =>
        new("job-1", new JobData("inference", "hi", "llama3.2:latest", new JobOptions(0.7, 10, 1)), "1", DateTimeOffset.UtcNow.AddMinutes(1).ToString("O"));

    private static async Task<HttpClient> MinerHttpAsync(RunningCoordinator coordinator)
    {
        using var key = Ed25519KeyPair.Generate();
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        var apiKey = await CoordinatorFixture.CreateKeyAsync(admin, new { role = "miner", miner_pub_key = key.PublicKey.Base64 });
        return coordinator.Http(apiKey, "X-Miner-Key");
    }

    private static Task<HttpResponseMessage> RegisterAsync(HttpClient miner, string endpoint) =>
        miner.PostAsJsonAsync("v1/miners/register", new { endpoint, models = new[] { "endpoint-model" }, capacity = 1, price_per_second = "1" });

    /// <summary>A loopback server that counts assignments, answering 202 or a 307 to another path it also counts.</summary>
    private sealed class Listener : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _assigns;
        private int _redirected;

        private Listener(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public int Assigns => Volatile.Read(ref _assigns);

        public int Redirected => Volatile.Read(ref _redirected);

        public static async Task<Listener> StartAsync(bool redirect)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var listener = new Listener(app);
            app.MapPost("/v1/jobs/assign", (HttpContext http) =>
            {
                Interlocked.Increment(ref listener._assigns);
                if (redirect)
                {
                    http.Response.Headers.Location = "/elsewhere";
                    return Results.StatusCode(StatusCodes.Status307TemporaryRedirect);
                }
                return Results.Accepted();
            });
            app.MapPost("/elsewhere", () =>
            {
                Interlocked.Increment(ref listener._redirected);
                return Results.Accepted();
            });
            await app.StartAsync();
            listener.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/");
            return listener;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
