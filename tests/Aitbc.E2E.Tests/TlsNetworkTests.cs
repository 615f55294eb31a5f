using System.Globalization;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;
using Aitbc.Core.Transactions;
using Aitbc.Node;

namespace Aitbc.E2E.Tests;

/// <summary>
/// A network whose every link is HTTPS with certificates from a private CA: the node, the coordinator and the miner
/// serve TLS (<c>--tls-cert</c>/<c>--tls-key</c>), the services trust the CA through <c>AITBC_CA_CERT</c>, and the CLI
/// through <c>--ca-cert</c>. The seed's job runs end to end over it; a CLI without the CA is refused, not retried.
/// </summary>
public sealed class TlsNetwork : IAsyncLifetime
{
    public const string Model = "llama3.2:latest";
    private readonly List<ServiceProcess> _processes = [];
    private readonly string _home = TempDir.Create("e2e-tls");
    private TestCertificates _certificates = null!;

    public string CaPath => _certificates.CaPath;

    public Uri CoordinatorUrl => _coordinatorUrl;

    public string Home => _home;
    private Uri _nodeUrl = null!;
    private Uri _coordinatorUrl = null!;
    private string _clientApiKey = null!;

    public async Task InitializeAsync()
    {
        _certificates = new TestCertificates(Path.Combine(_home, "tls"));
        using var coordinatorKey = Ed25519KeyPair.Generate();
        using var clientKey = Ed25519KeyPair.Generate();
        using var minerKey = Ed25519KeyPair.Generate();
        var trustCa = new Dictionary<string, string> { [Tls.CaCertificateVariable] = _certificates.CaPath };

        var nodeDir = Path.Combine(_home, "node");
        var init = await ServiceProcess.RunAsync("aitbc-node", ["init", "--chain-id", "aitbc-e2e-tls", "--data-dir", nodeDir,
            "--coordinator", coordinatorKey.Address.Value, "--alloc", $"{clientKey.Address.Value}=1000000000000", $"{minerKey.Address.Value}=10000000000",
            "--block-interval-ms", "50"]);
        Assert.True(init.ExitCode == 0, init.Stdout + init.Stderr);
        var nodePort = ServiceProcess.FreePort();
        _nodeUrl = new Uri($"https://127.0.0.1:{nodePort}/");
        var (nodeCert, nodeKeyFile) = _certificates.IssueServer("node");
        _processes.Add(await ServiceProcess.StartAsync("aitbc-node", ["start", "--data-dir", nodeDir, "--port", Port(nodePort),
            "--log-dir", Path.Combine(_home, "logs", "node"), "--tls-cert", nodeCert, "--tls-key", nodeKeyFile], new Uri(_nodeUrl, "healthz"), trustCa));

        var coordinatorKeyPath = Path.Combine(_home, "coordinator_key.json");
        KeyFile.Save(coordinatorKeyPath, coordinatorKey);
        var coordinatorPort = ServiceProcess.FreePort();
        _coordinatorUrl = new Uri($"https://127.0.0.1:{coordinatorPort}/");
        var adminKey = "e2e-tls-admin-" + Guid.NewGuid().ToString("N");
        var (coordinatorCert, coordinatorKeyFile) = _certificates.IssueServer("coordinator");
        _processes.Add(await ServiceProcess.StartAsync("aitbc-coordinator", ["start", "--data-dir", Path.Combine(_home, "coordinator"),
            "--port", Port(coordinatorPort), "--node", _nodeUrl.AbsoluteUri, "--coordinator-key", coordinatorKeyPath,
            "--log-dir", Path.Combine(_home, "logs", "coordinator"), "--heartbeat-interval", "1",
            "--tls-cert", coordinatorCert, "--tls-key", coordinatorKeyFile],
            new Uri(_coordinatorUrl, "readyz"), new Dictionary<string, string>(trustCa) { ["AITBC_ADMIN_KEY"] = adminKey }));

        string minerApiKey;
        using (var admin = CoordinatorClient.Create(_coordinatorUrl, adminKey, transport: Tls.CreateClientHandler(_certificates.CaPath)))
        {
            _clientApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("client", Address: clientKey.Address.Value))).Key;
            minerApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: minerKey.PublicKey.Base64))).Key;
        }
        using (var node = NodeClient.Create(_nodeUrl, transport: Tls.CreateClientHandler(_certificates.CaPath)))
        {
            var client = await TxSender.CreateAsync(node, clientKey);
            var approved = await client.SendAndCommitAsync(new ApproveBody(coordinatorKey.Address, Amount.FromAitbc(1_000)));
            Assert.True(approved.IsOk, approved.Log);
        }

        var model = Path.Combine(_home, "test-model.gguf");
        var made = await ServiceProcess.RunAsync("aitbc-miner", ["make-test-model", "--out", model]);
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);
        var minerDir = Path.Combine(_home, "miner");
        KeyFile.Save(Path.Combine(minerDir, "config", "miner_key.json"), minerKey);
        var minerPort = ServiceProcess.FreePort();
        var (minerCert, minerKeyFile) = _certificates.IssueServer("miner");
        _processes.Add(await ServiceProcess.StartAsync("aitbc-miner", ["start", "--data-dir", minerDir, "--port", Port(minerPort),
            "--log-dir", Path.Combine(_home, "logs", "miner"), "--coordinator", _coordinatorUrl.AbsoluteUri, "--node", _nodeUrl.AbsoluteUri,
            "--stake", "1000", "--price", "0.05", "--backend", "embedded", "--model-path", model, "--model-name", Model, "--threads", "1",
            "--tls-cert", minerCert, "--tls-key", minerKeyFile],
            new Uri($"https://127.0.0.1:{minerPort}/healthz"), new Dictionary<string, string>(trustCa) { ["AITBC_MINER_API_KEY"] = minerApiKey }));

        // Online means the miner registered over https and its stake is on chain: every link so far was TLS.
        using var market = CoordinatorClient.Create(_coordinatorUrl, _clientApiKey, transport: Tls.CreateClientHandler(_certificates.CaPath));
        await Poll.UntilAsync(async () => (await market.GetMarketMinersAsync()).Miners.Any(m => m.Online && m.Stake != "0"), 60_000);
    }

    public Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args) =>
        ServiceProcess.RunAsync("aitbc", args, new Dictionary<string, string>
        {
            ["AITBC_URL"] = _coordinatorUrl.AbsoluteUri,
            ["AITBC_NODE_URL"] = _nodeUrl.AbsoluteUri,
            ["CLIENT_API_KEY"] = _clientApiKey,
            ["AITBC_HOME"] = Path.Combine(_home, "cli-home"),
            ["AITBC_RETRY_DELAY_MS"] = "10",
            ["NO_COLOR"] = "1",
        }, TimeSpan.FromSeconds(120));

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }
        _certificates?.Dispose();
        TempDir.Delete(_home);
    }
}

/// <summary>The seed's job and the CLI's trust over the all-HTTPS network of <see cref="TlsNetwork"/>.</summary>
public sealed class TlsNetworkTests(TlsNetwork net) : IClassFixture<TlsNetwork>
{
    [Fact]
    public async Task The_seed_job_runs_end_to_end_over_https_and_its_receipt_verifies_on_chain()
    {
        var (code, stdout, stderr) = await net.CliAsync("submit", "inference", "--prompt", "What is machine learning?", "--model", TlsNetwork.Model, "--wait",
            "--ca-cert", net.CaPath);
        Assert.True(code == 0, stdout + stderr);
        Assert.Equal("completed", SeedFlowTests.Field(stdout, "Status"));
        // The coordinator pushed the job to the miner's https endpoint and recorded the receipt through the node's.
        var verify = await net.CliAsync("receipt", "verify", SeedFlowTests.Field(stdout, "Receipt"), "--ca-cert", net.CaPath);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);
    }

    [Fact]
    public async Task A_CLI_that_does_not_trust_the_CA_is_refused_at_once_and_told_what_to_set()
    {
        var (code, stdout, stderr) = await net.CliAsync("market", "stats");
        Assert.True(code == 3, $"exit {code}: {stdout}{stderr}");
        Assert.Contains("TLS handshake failed", stderr, StringComparison.Ordinal);
        Assert.Contains("--ca-cert", stderr, StringComparison.Ordinal);
        Assert.Contains("after 1 attempt", stderr, StringComparison.Ordinal);

        var missing = await net.CliAsync("market", "stats", "--ca-cert", Path.Combine(net.Home, "no-such-ca.pem"));
        Assert.True(missing.ExitCode == 2, missing.Stdout + missing.Stderr);
        Assert.Contains("no-such-ca.pem", missing.Stderr, StringComparison.Ordinal);

        // Plain HTTP to an HTTPS port gets no answer a client could mistake for the API.
        var plain = await net.CliAsync("market", "stats", "--url", net.CoordinatorUrl.AbsoluteUri.Replace("https://", "http://", StringComparison.Ordinal));
        Assert.NotEqual(0, plain.ExitCode);
    }
}
