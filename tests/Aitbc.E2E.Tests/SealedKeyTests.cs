using System.Globalization;
using Aitbc.Core.Crypto;

namespace Aitbc.E2E.Tests;

/// <summary>
/// Service keys sealed at rest: with <c>AITBC_KEY_PASSPHRASE</c> (or <c>_FILE</c>) set, the node writes its keys sealed,
/// starts with the passphrase, and refuses to start without it, naming the variable.
/// </summary>
public sealed class SealedKeyTests : IDisposable
{
    private readonly string _home = TempDir.Create("sealed-keys");

    [Fact]
    public async Task Keygen_and_init_seal_keys_under_the_passphrase_and_start_needs_it()
    {
        const string passphrase = "a long operator passphrase";
        Directory.CreateDirectory(_home);
        var passphraseFile = Path.Combine(_home, "passphrase");
        await File.WriteAllTextAsync(passphraseFile, passphrase + "\n");
        var sealedEnv = new Dictionary<string, string> { [KeyFile.PassphraseFileVariable] = passphraseFile };

        var keyPath = Path.Combine(_home, "wallet.json");
        var keygen = await ServiceProcess.RunAsync("aitbc-node", ["keygen", "--out", keyPath], new Dictionary<string, string> { [KeyFile.PassphraseVariable] = passphrase });
        Assert.True(keygen.ExitCode == 0, keygen.Stdout + keygen.Stderr);
        Assert.True(KeyFileFormat.IsSealed(await File.ReadAllBytesAsync(keyPath)));
        using (var key = KeyFile.Load(keyPath, passphrase))
        {
            Assert.Equal(key.Address.Value, keygen.Stdout.Trim());
        }

        var nodeDir = Path.Combine(_home, "node");
        var init = await ServiceProcess.RunAsync("aitbc-node", ["init", "--chain-id", "sealed", "--data-dir", nodeDir], sealedEnv);
        Assert.True(init.ExitCode == 0, init.Stdout + init.Stderr);
        var validatorKey = Path.Combine(nodeDir, "config", "validator_key.json");
        Assert.True(KeyFileFormat.IsSealed(await File.ReadAllBytesAsync(validatorKey)));

        var port = ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture);
        string[] start = ["start", "--data-dir", nodeDir, "--port", port, "--log-dir", Path.Combine(_home, "logs")];
        var refused = await ServiceProcess.RunAsync("aitbc-node", start, new Dictionary<string, string> { [KeyFile.PassphraseVariable] = "" });
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains(KeyFile.PassphraseVariable, refused.Stdout + refused.Stderr, StringComparison.Ordinal);

        var wrong = await ServiceProcess.RunAsync("aitbc-node", start, new Dictionary<string, string> { [KeyFile.PassphraseVariable] = "not it" });
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("wrong passphrase", wrong.Stdout + wrong.Stderr, StringComparison.Ordinal);

        await using var node = await ServiceProcess.StartAsync("aitbc-node", start, new Uri($"http://127.0.0.1:{port}/healthz"), sealedEnv);
        Assert.False(node.HasExited);
    }

    public void Dispose() => TempDir.Delete(_home);
}
