using System.Net;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aitbc.Client.Tests.Http;

/// <summary>
/// TLS between AITBC's clients and a real Kestrel HTTPS server: a certificate from a private CA is trusted only when
/// the client is told the CA; an untrusted or misnamed certificate is refused at once (no retries) with a message that
/// names the setting to fix.
/// </summary>
public sealed class TlsTests : IDisposable
{
    private static readonly RetryOptions Tiny = new() { BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(2) };
    private readonly string _dir = TempDir.Create("tls");
    private readonly TestCertificates _certificates;

    public TlsTests() => _certificates = new TestCertificates(_dir);

    [Fact]
    public async Task A_client_told_the_CA_talks_to_the_coordinator_and_the_node_over_https()
    {
        var (cert, key) = _certificates.IssueServer("server");
        await using var server = await HttpsServer.StartAsync(Tls.LoadServerCertificate(cert, key));

        using var coordinator = CoordinatorClient.Create(server.Url, "ak_test", Tiny, transport: Tls.CreateClientHandler(_certificates.CaPath));
        var stats = await coordinator.GetMarketStatsAsync();
        Assert.Equal(3, stats.MinersOnline);

        using var node = NodeClient.Create(server.Url, Tiny, transport: Tls.CreateClientHandler(_certificates.CaPath));
        await node.HealthAsync();
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task A_self_signed_server_certificate_can_be_trusted_directly()
    {
        var (cert, key) = _certificates.IssueServer("self", selfSigned: true);
        await using var server = await HttpsServer.StartAsync(Tls.LoadServerCertificate(cert, key));

        using var node = NodeClient.Create(server.Url, Tiny, transport: Tls.CreateClientHandler(cert));
        await node.HealthAsync();
    }

    [Fact]
    public async Task An_untrusted_certificate_is_refused_once_with_the_setting_to_fix()
    {
        var (cert, key) = _certificates.IssueServer("server");
        await using var server = await HttpsServer.StartAsync(Tls.LoadServerCertificate(cert, key));

        using var coordinator = CoordinatorClient.Create(server.Url, "ak_test", Tiny, transport: Tls.CreateClientHandler(caCertificatePath: null));
        var rest = await Assert.ThrowsAsync<RestUnavailableException>(() => coordinator.GetMarketStatsAsync());
        Assert.Equal(1, rest.Attempts);
        Assert.Contains("TLS handshake failed", rest.LastError, StringComparison.Ordinal);
        Assert.Contains(Tls.CaCertificateVariable, rest.LastError, StringComparison.Ordinal);

        // Another CA's certificate is no better than none.
        using var other = new TestCertificates(Path.Combine(_dir, "other"));
        using var node = NodeClient.Create(server.Url, Tiny, transport: Tls.CreateClientHandler(other.CaPath));
        var rpc = await Assert.ThrowsAsync<NodeUnavailableException>(() => node.HealthAsync());
        Assert.Equal(1, rpc.Attempts);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public async Task A_certificate_for_another_name_is_refused_even_from_the_trusted_CA()
    {
        var (cert, key) = _certificates.IssueServer("elsewhere", ["coordinator.example"]);
        await using var server = await HttpsServer.StartAsync(Tls.LoadServerCertificate(cert, key));

        using var node = NodeClient.Create(server.Url, Tiny, transport: Tls.CreateClientHandler(_certificates.CaPath));
        var e = await Assert.ThrowsAsync<NodeUnavailableException>(() => node.HealthAsync());
        Assert.Contains("TLS handshake failed", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Requests);
    }

    [Fact]
    public void Certificates_load_from_PEM_pairs_combined_PEM_and_PKCS12_and_bad_files_are_named()
    {
        var (cert, key) = _certificates.IssueServer("server");
        using (var pair = Tls.LoadServerCertificate(cert, key))
        {
            Assert.True(pair.HasPrivateKey);
        }

        var combined = Path.Combine(_dir, "combined.pem");
        File.WriteAllText(combined, File.ReadAllText(cert) + "\n" + File.ReadAllText(key));
        using (var fromCombined = Tls.LoadServerCertificate(combined, null))
        {
            Assert.True(fromCombined.HasPrivateKey);
            var pfx = Path.Combine(_dir, "server.pfx");
            File.WriteAllBytes(pfx, fromCombined.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pkcs12));
            using var fromPfx = Tls.LoadServerCertificate(pfx, null);
            Assert.True(fromPfx.HasPrivateKey);
        }

        var keyless = Assert.Throws<InvalidDataException>(() => Tls.LoadServerCertificate(cert, null));
        Assert.Contains(cert, keyless.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<FileNotFoundException>(() => Tls.LoadServerCertificate(Path.Combine(_dir, "nope.pem"), key));
        Assert.Contains("nope.pem", missing.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => Tls.CreateClientHandler(Path.Combine(_dir, "no-ca.pem")));
        var notPem = Path.Combine(_dir, "not.pem");
        File.WriteAllText(notPem, "hello");
        Assert.Throws<InvalidDataException>(() => Tls.CreateClientHandler(notPem));
    }

    [Fact]
    public void Server_settings_come_from_options_then_the_environment_and_a_lone_key_is_an_error()
    {
        Assert.Equal(new TlsServerSettings("c.pem", "k.pem"), TlsServerSettings.From("c.pem", "k.pem"));
        Assert.Throws<ArgumentException>(() => TlsServerSettings.From(null, "k.pem"));
    }

    public void Dispose()
    {
        _certificates.Dispose();
        TempDir.Delete(_dir);
    }

    /// <summary>Kestrel over HTTPS on a free loopback port, answering the market stats and the node's health.</summary>
    private sealed class HttpsServer(WebApplication app) : IAsyncDisposable
    {
        private int _requests;

        public Uri Url { get; private set; } = null!;

        public int Requests => Volatile.Read(ref _requests);

        public static async Task<HttpsServer> StartAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
            var app = builder.Build();
            var server = new HttpsServer(app);
            app.Use(async (context, next) =>
            {
                Interlocked.Increment(ref server._requests);
                await next(context);
            });
            app.MapGet("/v1/market/stats", () => Results.Text(
                """{"miners_online":3,"miners_total":3,"capacity":6,"in_flight":0,"jobs_total":0,"jobs_by_status":{},"queue_depth":0,"total_paid":"0"}""",
                "application/json"));
            app.MapPost("/", () => Results.Text("""{"jsonrpc":"2.0","id":1,"result":{}}""", "application/json"));
            await app.StartAsync();
            var address = app.Urls.First();
            server.Url = new Uri(address.TrimEnd('/') + "/");
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
