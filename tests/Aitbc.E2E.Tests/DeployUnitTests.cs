using System.Globalization;
using System.Text.RegularExpressions;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Aitbc.Node;

namespace Aitbc.E2E.Tests;

/// <summary>
/// deploy/systemd: each unit's <c>ExecStart</c>, with its <c>Environment=</c> defaults expanded as systemd would, starts
/// a working service. Only paths and ports are moved (to a temp dir and free ports), and the installed binary
/// (<c>/opt/aitbc/…/aitbc-x</c>) becomes <c>dotnet aitbc-x.dll</c>.
/// </summary>
public sealed partial class DeployUnitTests : IAsyncLifetime
{
    private readonly string _home = TempDir.Create("deploy");
    private readonly List<ServiceProcess> _processes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            await process.DisposeAsync();
        }
        TempDir.Delete(_home);
    }

    [Fact]
    public async Task The_three_units_start_a_network_from_their_own_command_lines()
    {
        using var coordinatorKey = Ed25519KeyPair.Generate();
        using var minerKey = Ed25519KeyPair.Generate();
        var adminKey = "deploy-admin-" + Guid.NewGuid().ToString("N");
        var nodePort = ServiceProcess.FreePort();
        var coordinatorPort = ServiceProcess.FreePort();
        var minerPort = ServiceProcess.FreePort();
        var logs = Path.Combine(_home, "log");

        // The operator's steps from deploy/README.md: a genesis naming the coordinator and funding the miner.
        var nodeDir = Path.Combine(_home, "lib", "node");
        var init = await ServiceProcess.RunAsync("aitbc-node", ["init", "--data-dir", nodeDir, "--chain-id", "aitbc-deploy",
            "--coordinator", coordinatorKey.Address.Value, "--alloc", $"{minerKey.Address.Value}=10000000000"]);
        Assert.True(init.ExitCode == 0, init.Stdout + init.Stderr);
        var node = await StartUnitAsync("aitbc-node", new()
        {
            ["AITBC_PORT"] = Port(nodePort),
            ["AITBC_DATA_DIR"] = nodeDir,
            ["AITBC_LOG_DIR"] = logs,
        }, new Uri($"http://127.0.0.1:{nodePort}/healthz"));

        var coordinatorDir = Path.Combine(_home, "lib", "coordinator");
        KeyFile.Save(Path.Combine(coordinatorDir, "config", "coordinator_key.json"), coordinatorKey);
        await StartUnitAsync("aitbc-coordinator", new()
        {
            ["AITBC_PORT"] = Port(coordinatorPort),
            ["AITBC_DATA_DIR"] = coordinatorDir,
            ["AITBC_LOG_DIR"] = logs,
            ["AITBC_NODE_URL"] = $"http://127.0.0.1:{nodePort}",
            ["AITBC_ADMIN_KEY"] = adminKey,
            // Every unit on one machine: the miner's endpoint is on loopback, which a coordinator refuses by default.
            ["AITBC_ALLOW_PRIVATE_MINER_ENDPOINTS"] = "true",
        }, new Uri($"http://127.0.0.1:{coordinatorPort}/readyz"));

        var coordinatorUrl = new Uri($"http://127.0.0.1:{coordinatorPort}/");
        using var admin = CoordinatorClient.Create(coordinatorUrl, adminKey);
        var minerApiKey = (await admin.CreateApiKeyAsync(new ApiKeyRequest("miner", MinerPubKey: minerKey.PublicKey.Base64))).Key;
        var minerDir = Path.Combine(_home, "lib", "miner");
        KeyFile.Save(Path.Combine(minerDir, "config", "miner_key.json"), minerKey);
        await using var ollama = await NetworkOllama.StartAsync();
        await StartUnitAsync("aitbc-miner", new()
        {
            ["AITBC_MINER_PORT"] = Port(minerPort),
            ["AITBC_MINER_DATA_DIR"] = minerDir,
            ["AITBC_LOG_DIR"] = logs,
            ["AITBC_COORDINATOR_URL"] = coordinatorUrl.AbsoluteUri,
            ["AITBC_NODE_URL"] = $"http://127.0.0.1:{nodePort}",
            ["AITBC_MINER_BACKEND_URL"] = ollama.Url.AbsoluteUri,
            ["AITBC_MINER_API_KEY"] = minerApiKey,
        }, new Uri($"http://127.0.0.1:{minerPort}/healthz"));

        // The miner staked on chain and registered: the market shows it online with its stake.
        await Poll.UntilAsync(async () => (await admin.GetAdminMinersAsync()).Miners.Any(m => m.Address == minerKey.Address.Value && m.Online && m.Stake != "0"), 60_000);
        foreach (var log in new[] { "node.log", "coordinator.log", "miner.log" })
        {
            Assert.True(File.Exists(Path.Combine(logs, log)), $"{log} not in the unit's log dir; node said:\n{node.OutputTail}");
        }
        Assert.True(File.Exists(Path.Combine(ServiceProcess.RepoRoot, "deploy", "prometheus", "prometheus.yml")));
    }

    /// <summary>Starts a unit's ExecStart with its Environment= lines, <paramref name="overrides"/> applied on top (as an EnvironmentFile would).</summary>
    private async Task<ServiceProcess> StartUnitAsync(string service, Dictionary<string, string> overrides, Uri health)
    {
        var unit = await File.ReadAllLinesAsync(Path.Combine(ServiceProcess.RepoRoot, "deploy", "systemd", service + ".service"));
        var environment = unit.Select(l => EnvironmentLine().Match(l)).Where(m => m.Success)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        foreach (var (name, value) in overrides)
        {
            environment[name] = value;
        }
        var execStart = unit.Single(l => l.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        var words = execStart.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(w => VariableReference().Replace(w, m => environment.TryGetValue(m.Groups[1].Value, out var v) ? v : throw new InvalidOperationException($"{service}: ${{{m.Groups[1].Value}}} is not set by the unit")))
            .ToList();
        Assert.Equal($"/opt/aitbc/{service["aitbc-".Length..]}/{service}", words[0]);
        var process = await ServiceProcess.StartAsync(service, words.Skip(1), health, environment);
        _processes.Add(process);
        return process;
    }

    private static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^Environment=([A-Z_]+)=(.*)$")]
    private static partial Regex EnvironmentLine();

    [GeneratedRegex(@"\$\{([A-Z_]+)\}")]
    private static partial Regex VariableReference();
}
