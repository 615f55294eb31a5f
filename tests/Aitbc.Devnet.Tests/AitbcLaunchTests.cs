namespace Aitbc.Devnet.Tests;

/// <summary>
/// The aitbc CLI, as its own process, finds aitbc-devnet and aitbc-miner in the source tree's build output, runs them
/// with the command line and exits with their exit code (Ctrl-C through aitbc: tests/Aitbc.E2E.Tests/DevnetCommandTests).
/// </summary>
public sealed class AitbcLaunchTests : IDisposable
{
    private readonly string _home = TempDir.Create("devnet-launch");

    public void Dispose() => TempDir.Delete(_home);

    [Fact]
    public async Task Aitbc_up_runs_aitbc_devnet_and_exits_with_its_code()
    {
        // A state file without its chain: the host refuses to start with its own exit code, 5, before any service starts.
        var dataDir = Path.Combine(_home, "net");
        new DevnetState("aitbc-devnet-000000", "admin", "aitbc1client", null, [], "2025-01-01T00:00:00Z").Save(Path.Combine(dataDir, "devnet.json"));

        var (code, stdout, stderr) = await AitbcAsync("up", "--data-dir", dataDir, "--port-base", "0", "--backend", "embedded");

        Assert.True(code == 5, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Equal($"error: {Path.Combine(dataDir, "devnet.json")} exists but the node's genesis does not; move {dataDir} aside to start afresh", stderr.Trim());
    }

    [Fact]
    public async Task Aitbc_passes_its_whole_command_line_to_aitbc_devnet()
    {
        var (code, stdout, stderr) = await AitbcAsync("--output", "json", "demo", "--miners", "33");

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal("error: --miners must be 0 to 32", stderr.Trim());
    }

    [Theory]
    [InlineData("up", "--port-base")]
    [InlineData("demo", "--keep")]
    public async Task Aitbc_up_and_demo_help_is_aitbc_devnets(string command, string option)
    {
        var (code, stdout, stderr) = await AitbcAsync(command, "--help");

        Assert.True(code == 0, stderr);
        Assert.Contains($"aitbc {command} [options]", stdout, StringComparison.Ordinal);
        Assert.Contains($" {option} ", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Aitbc_miner_commands_run_aitbc_miner()
    {
        var model = Path.Combine(_home, "tiny.gguf");

        var made = await AitbcAsync("miner", "make-test-model", "--out", model);
        var refused = await AitbcAsync("miner", "start", "--backend", "nope");

        Assert.True(made.Code == 0, made.Stderr);
        Assert.True(File.Exists(model));
        // aitbc-miner's exit 1 for an operator's mistake is aitbc's usage error.
        Assert.Equal(2, refused.Code);
        Assert.StartsWith("aitbc-miner: ", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("'nope'", refused.Stderr, StringComparison.Ordinal);
    }

    private async Task<(int Code, string Stdout, string Stderr)> AitbcAsync(params string[] args) =>
        await ServiceProcess.RunAsync("aitbc", args, new Dictionary<string, string> { ["AITBC_HOME"] = Path.Combine(_home, "cli") }, TimeSpan.FromSeconds(120));
}
