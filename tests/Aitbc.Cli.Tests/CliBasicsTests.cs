using Aitbc.Cli.Tests.Infrastructure;

namespace Aitbc.Cli.Tests;

/// <summary>The skeleton every command shares: help, usage errors, settings precedence, unreachable node.</summary>
[Collection(NodeCollection.Name)]
public sealed class CliBasicsTests(NodeFixture fixture)
{
    public static TheoryData<string> Commands() =>
    [
        "", "wallet", "wallet create", "wallet import", "wallet list", "wallet address", "wallet balance", "wallet send",
        "wallet approve", "wallet history", "blockchain", "blockchain info", "blockchain block", "blockchain tx",
        "blockchain validators", "blockchain supply",
        "submit", "submit inference", "status", "jobs", "jobs list", "jobs cancel", "ai", "ai submit", "ai submit inference", "ai status",
        "receipt", "receipt show", "receipt verify", "market", "market miners", "market models", "market stats",
        "miner", "miner register", "miner status", "miner stake", "miner unstake", "admin", "admin keys", "admin keys create", "admin keys revoke", "admin jobs", "admin miners",
    ];

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Every_command_has_help_with_examples(string command)
    {
        using var cli = new CliHarness(null);

        var result = await cli.RunAsync([.. command.Split(' ', StringSplitOptions.RemoveEmptyEntries), "--help"]);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Examples:", result.Stdout);
        Assert.Contains("aitbc " + command, result.Stdout);
    }

    [Fact]
    public async Task An_unknown_command_is_a_usage_error_naming_help()
    {
        using var cli = new CliHarness(null);

        var result = await cli.RunAsync("wallet", "sned");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("aitbc wallet --help", result.Stderr);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task A_bad_output_format_is_a_usage_error()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("blockchain", "info", "--output", "yaml");

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_unreachable_node_exits_3_after_retries_with_one_line()
    {
        using var cli = new CliHarness(null);
        var url = $"http://127.0.0.1:{CliHarness.ClosedPort()}";

        var result = await cli.RunAsync("blockchain", "info", "--node", url);

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("unavailable", line);
        Assert.Contains("4 attempts", line);
        Assert.Contains("AITBC_NODE_URL", line);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public async Task Node_url_precedence_is_option_then_env_then_config_file()
    {
        using var cli = new CliHarness(null);
        var closed = $"http://127.0.0.1:{CliHarness.ClosedPort()}";
        var real = fixture.Node.Url.ToString();

        cli.WriteFile("config.json", $$"""{ "node": "{{real}}", "retries": 0 }""");
        Assert.Equal(0, (await cli.RunAsync("blockchain", "info")).ExitCode);

        cli.Env["AITBC_NODE_URL"] = closed;
        var fromEnv = await cli.RunAsync("blockchain", "info");
        Assert.Equal(3, fromEnv.ExitCode);
        Assert.Contains("1 attempt", fromEnv.Stderr);

        Assert.Equal(0, (await cli.RunAsync("blockchain", "info", "--node", real)).ExitCode);
    }

    [Fact]
    public async Task A_broken_config_file_is_a_usage_error_naming_the_file()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        var path = cli.WriteFile("config.json", "{ not json");

        var result = await cli.RunAsync("blockchain", "info");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains(path, result.Stderr);
    }

    [Fact]
    public async Task Output_format_can_come_from_the_config_file()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        cli.WriteFile("config.json", """{ "output": "json" }""");

        var result = await cli.RunAsync("blockchain", "supply");

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Json().GetProperty("balanced").GetBoolean());
    }
}
