using System.Collections;

namespace Aitbc.Devnet.Tests;

/// <summary>aitbc-devnet's command line, in-process: the options of <c>up</c> and <c>demo</c>, their help and their usage errors.</summary>
public sealed class DevnetAppTests : IDisposable
{
    private readonly string _home = TempDir.Create("devnet-app");

    public void Dispose() => TempDir.Delete(_home);

    public static TheoryData<string, string[]> Options() => new()
    {
        { "up", ["--data-dir", "--backend", "--backend-url", "--miners", "--port-base", "--coordinator-port", "--node-port", "--miner-port", "--model-path", "--model-name", "--verbose", "--output"] },
        { "demo", ["--data-dir", "--backend", "--backend-url", "--miners", "--port-base", "--coordinator-port", "--node-port", "--miner-port", "--model-path", "--model-name", "--verbose", "--output", "--prompt", "--model", "--keep"] },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public async Task Help_lists_every_option_under_aitbcs_name(string command, string[] options)
    {
        var (code, stdout, _) = await RunAsync(command, "--help");

        Assert.Equal(0, code);
        Assert.Contains($"aitbc {command} [options]", stdout, StringComparison.Ordinal);
        Assert.Contains("Examples:", stdout, StringComparison.Ordinal);
        foreach (var option in options)
        {
            Assert.Contains($" {option} ", stdout, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("error: --miners must be 0 to 32", "up", "--miners", "33")]
    [InlineData("error: --port-base must be 0 (free ports) or 1024 to 65000", "demo", "--port-base", "80")]
    [InlineData("error: --backend-url 'ftp://x' must be an http(s) URL, e.g. http://127.0.0.1:11434", "up", "--backend-url", "ftp://x")]
    [InlineData("error: Unrecognized command or argument '--bogus'. (see 'aitbc up --help')", "up", "--bogus")]
    public async Task A_bad_option_is_a_usage_error_in_one_line_before_anything_starts(string message, params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal(message, stderr.Trim());
    }

    private async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await DevnetApp.RunAsync(args, stdout, stderr, new Hashtable { ["AITBC_HOME"] = _home });
        return (code, stdout.ToString(), stderr.ToString());
    }
}
