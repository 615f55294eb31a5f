using System.Text.Json;
using Aitbc.Core.Crypto;
using Aitbc.Node.Tests.Infrastructure;

namespace Aitbc.Node.Tests;

/// <summary>aitbc-node init, keygen and start's refusals, run as processes.</summary>
public sealed class CliTests
{
    [Fact]
    public async Task Init_writes_genesis_and_a_private_validator_key_and_refuses_to_run_twice()
    {
        await using var net = await TestNet.CreateAsync("cli", fundedWallets: 3, blockIntervalMs: 150);
        using var genesis = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(net.ValidatorDir, "config", "genesis.json")));
        var root = genesis.RootElement;
        Assert.Equal(net.ChainId, root.GetProperty("chain_id").GetString());
        Assert.Equal(150, root.GetProperty("block_interval_ms").GetInt32());
        Assert.Equal(net.Coordinator.Address.Value, Assert.Single(root.GetProperty("coordinators").EnumerateArray()).GetString());
        var allocations = root.GetProperty("allocations").EnumerateArray().ToList();
        Assert.Equal(net.Funded.Select(w => w.Address.Value).Order(), allocations.Select(a => a.GetProperty("address").GetString()).Order());
        Assert.All(allocations, a => Assert.Equal(TestNet.FundedMicro.ToString(System.Globalization.CultureInfo.InvariantCulture), a.GetProperty("amount").GetString()));
        var keyPath = Path.Combine(net.ValidatorDir, "config", "validator_key.json");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyPath));
        }
        var validatorKey = KeyFile.Load(keyPath);
        Assert.Equal(validatorKey.PublicKey.Base64, root.GetProperty("validator_pub_key").GetString());

        var (exitCode, output) = await NodeProcess.RunToExitAsync("init", "--data-dir", net.ValidatorDir, "--chain-id", "again");
        Assert.Equal(1, exitCode);
        Assert.Contains("already exists", output);
    }

    [Fact]
    public async Task Start_refuses_an_uninitialised_data_dir_and_a_bad_follow_url_and_keygen_writes_a_key()
    {
        using var home = new TempDirectory("cli-refusals");
        var (exitCode, output) = await NodeProcess.RunToExitAsync("start", "--data-dir", home.Sub("empty"), "--port", NodeProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1, exitCode);
        Assert.Contains("aitbc-node init", output);

        (exitCode, output) = await NodeProcess.RunToExitAsync("start", "--data-dir", home.Sub("f"), "--follow", "not a url");
        Assert.NotEqual(0, exitCode);
        Assert.Contains("--follow", output);

        var keyPath = home.Sub("wallet.json");
        (exitCode, output) = await NodeProcess.RunToExitAsync("keygen", "--out", keyPath);
        Assert.Equal(0, exitCode);
        using var key = KeyFile.Load(keyPath);
        Assert.Equal(key.Address.Value, output.Trim());
        (exitCode, output) = await NodeProcess.RunToExitAsync("keygen", "--out", keyPath);
        Assert.Equal(1, exitCode);
        Assert.Contains("already exists", output);
    }
}
