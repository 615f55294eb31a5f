using System.Collections;
using Aitbc.Cli.Infrastructure;

namespace Aitbc.Cli.Tests.Infrastructure;

/// <summary>
/// Where aitbc finds the executables that serve <c>up</c>, <c>demo</c> and the miner daemon's commands, and what it
/// answers when one is missing. Running a found host is covered by tests/Aitbc.Devnet.Tests (AitbcLaunchTests).
/// </summary>
public sealed class HostProgramTests : IDisposable
{
    private readonly string _root = TempDir.Create("hosts");

    public void Dispose() => TempDir.Delete(_root);

    [Fact]
    public void The_variable_names_the_host_over_every_other_place()
    {
        var cli = CliDirectory("Release");
        Touch(cli, "aitbc-devnet.dll");
        var named = Touch(_root, "elsewhere", "aitbc-devnet.dll");

        var found = HostProgram.Devnet.Locate(new Hashtable { ["AITBC_DEVNET_DLL"] = named }, cli, "aitbc up");

        Assert.Equal(named, found);
    }

    [Fact]
    public void A_variable_naming_a_missing_file_is_an_error_rather_than_a_fall_back()
    {
        var cli = CliDirectory("Release");
        Touch(cli, "aitbc-devnet.dll");
        var missing = Path.Combine(_root, "nowhere", "aitbc-devnet.dll");

        var e = Assert.Throws<CliUsageException>(() => HostProgram.Devnet.Locate(new Hashtable { ["AITBC_DEVNET_DLL"] = missing }, cli, "aitbc up"));

        Assert.Contains($"AITBC_DEVNET_DLL names {missing}, which does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_host_beside_aitbc_comes_before_the_source_tree()
    {
        MarkSourceTree();
        var cli = CliDirectory("Release");
        var beside = Touch(cli, "aitbc-miner.dll");
        Touch(_root, "src", "Aitbc.Miner", "bin", "Release", "net10.0", "aitbc-miner.dll");

        Assert.Equal(beside, HostProgram.Miner.Locate(new Hashtable(), cli, "aitbc miner start"));
    }

    [Fact]
    public void In_a_source_tree_the_host_built_in_aitbcs_own_configuration_comes_first()
    {
        MarkSourceTree();
        var debug = Touch(_root, "src", "Aitbc.Devnet", "bin", "Debug", "net10.0", "aitbc-devnet.dll");
        Touch(_root, "src", "Aitbc.Devnet", "bin", "Release", "net10.0", "aitbc-devnet.dll");

        Assert.Equal(debug, HostProgram.Devnet.Locate(new Hashtable(), CliDirectory("Debug"), "aitbc up"));
    }

    [Fact]
    public void In_a_source_tree_the_release_build_serves_when_aitbcs_configuration_has_none()
    {
        MarkSourceTree();
        var release = Touch(_root, "src", "Aitbc.Devnet", "bin", "Release", "net10.0", "aitbc-devnet.dll");

        Assert.Equal(release, HostProgram.Devnet.Locate(new Hashtable(), CliDirectory("Debug"), "aitbc demo"));
    }

    [Fact]
    public void A_missing_host_says_where_aitbc_looked_and_how_to_build_it()
    {
        MarkSourceTree();
        var cli = CliDirectory("Release");

        var e = Assert.Throws<CliUsageException>(() => HostProgram.Devnet.Locate(new Hashtable(), cli, "aitbc up"));

        Assert.StartsWith("'aitbc up' runs aitbc-devnet.dll, which is neither beside aitbc", e.Message, StringComparison.Ordinal);
        Assert.Contains(cli, e.Message, StringComparison.Ordinal);
        Assert.Contains("'dotnet build src/Aitbc.Devnet -c Release'", e.Message, StringComparison.Ordinal);
        Assert.Contains("AITBC_DEVNET_DLL", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("up")]
    [InlineData("demo --backend embedded")]
    [InlineData("up --help")]
    [InlineData("miner start --backend ollama")]
    [InlineData("miner key")]
    [InlineData("miner make-test-model --out tiny.gguf")]
    public async Task Without_its_host_a_hosted_command_exits_2_with_one_line(string command)
    {
        using var cli = new CliHarness(null);
        cli.Env["AITBC_DEVNET_DLL"] = Path.Combine(_root, "missing", "aitbc-devnet.dll");
        cli.Env["AITBC_MINER_DLL"] = Path.Combine(_root, "missing", "aitbc-miner.dll");

        var result = await cli.RunAsync(command.Split(' '));

        Assert.Equal(2, result.ExitCode);
        Assert.Empty(result.Stdout);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: 'aitbc " + string.Join(' ', command.Split(' ').TakeWhile(w => !w.StartsWith('-'))) + "' runs aitbc-", line, StringComparison.Ordinal);
        Assert.Contains("dotnet build src/Aitbc.", line, StringComparison.Ordinal);
    }

    [Fact]
    public void The_miner_daemons_exit_1_is_aitbcs_usage_error_and_other_codes_pass_through()
    {
        Assert.Equal(ExitCodes.Usage, HostProgram.Miner.ExitCode(1));
        Assert.Equal(0, HostProgram.Miner.ExitCode(0));
        Assert.Equal(130, HostProgram.Miner.ExitCode(130));
        Assert.Equal(ExitCodes.JobFailed, HostProgram.Devnet.ExitCode(1));
        Assert.Equal(ExitCodes.ServerRefused, HostProgram.Devnet.ExitCode(5));
    }

    private void MarkSourceTree() => Touch(_root, "Aitbc.slnx");

    private string CliDirectory(string configuration)
    {
        var path = Path.Combine(_root, "src", "Aitbc.Cli", "bin", configuration, "net10.0");
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Touch(params string[] parts)
    {
        var path = Path.Combine(parts);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
        return path;
    }
}
