using Aitbc.Core;

namespace Aitbc.E2E.Tests;

/// <summary>
/// A network whose every link is HTTPS with certificates from a private CA (<see cref="ServiceNetwork"/> with TLS): the
/// node, the coordinator and the miner serve TLS (<c>--tls-cert</c>/<c>--tls-key</c>), the services trust the CA through
/// <c>AITBC_CA_CERT</c>, and the CLI through <c>--ca-cert</c>. The seed's job runs end to end over it; a CLI without the
/// CA is refused, not retried.
/// </summary>
public sealed class TlsNetwork : IAsyncLifetime
{
    public const string Model = "llama3.2:latest";
    private readonly ServiceNetwork _net = new("e2e-tls", minerCount: 1, tls: true);

    public string CaPath => _net.CaPath!;

    public Uri CoordinatorUrl => _net.CoordinatorUrl;

    public string Home => _net.Home;

    public async Task InitializeAsync()
    {
        await _net.InitChainAsync("aitbc-e2e-tls");
        await _net.StartNodeAsync();
        await _net.StartCoordinatorAsync(extraArgs: ["--heartbeat-interval", "1"]);
        await _net.CreateApiKeysAsync();
        await _net.ApproveAsync(Amount.FromAitbc(1_000));
        var model = Path.Combine(_net.Home, "test-model.gguf");
        var made = await ServiceProcess.RunAsync("aitbc-miner", ["make-test-model", "--out", model]);
        Assert.True(made.ExitCode == 0, made.Stdout + made.Stderr);
        await _net.StartMinerAsync(0, ["--stake", "1000", "--price", "0.05", "--backend", "embedded", "--model-path", model, "--model-name", Model, "--threads", "1"]);
        // Online means the miner registered over https and its stake is on chain: every link so far was TLS.
        await _net.WaitForMinersAsync(1);
    }

    public Task<(int ExitCode, string Stdout, string Stderr)> CliAsync(params string[] args) =>
        ServiceProcess.RunAsync("aitbc", args, new Dictionary<string, string>
        {
            ["AITBC_URL"] = _net.CoordinatorUrl.AbsoluteUri,
            ["AITBC_NODE_URL"] = _net.NodeUrl.AbsoluteUri,
            ["CLIENT_API_KEY"] = _net.ClientApiKey,
            ["AITBC_HOME"] = Path.Combine(_net.Home, "cli-home"),
            ["AITBC_RETRY_DELAY_MS"] = "10",
            ["NO_COLOR"] = "1",
        }, TimeSpan.FromSeconds(120));

    public async Task DisposeAsync() => await _net.DisposeAsync();
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
