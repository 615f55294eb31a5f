using System.Diagnostics;
using Aitbc.Cli.Tests.Infrastructure;

namespace Aitbc.Cli.Tests;

/// <summary><c>scripts/aitbc-cli.sh</c> run as the seed writes it, with the built <c>aitbc</c> against a fake coordinator.</summary>
public sealed class WrapperScriptTests : IAsyncLifetime
{
    private FakeCoordinator _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeCoordinator.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    [Fact]
    public async Task The_seeds_submit_and_status_commands_work_through_the_wrapper()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var submit = await RunAsync("submit", "inference", "--prompt", "What is machine learning?", "--model", "llama3.2:latest");
        _fake.AddJob(FakeCoordinator.Completed("job_123456"));
        var status = await RunAsync("status", "job_123456");

        Assert.True(submit.ExitCode == 0, submit.ToString());
        Assert.StartsWith("Job ID: job_1\nStatus: pending\n", submit.Stdout, StringComparison.Ordinal);
        Assert.Equal("llama3.2:latest", Assert.Single(_fake.Submissions).Model);
        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.StartsWith("Job ID: job_123456\nStatus: completed\nResult: Machine learning", status.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("Completed in: 17 seconds\nCost: 0.25 AITBC\n", status.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_wrapper_takes_the_seeds_CLIENT_KEY_too()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var withSeedName = await RunWithEnvAsync(new() { ["CLIENT_API_KEY"] = null, ["CLIENT_KEY"] = FakeCoordinator.ClientKey }, "jobs", "list");
        var without = await RunWithEnvAsync(new() { ["CLIENT_API_KEY"] = null }, "jobs", "list");

        Assert.True(withSeedName.ExitCode == 0, withSeedName.ToString());
        Assert.Equal(4, without.ExitCode);
        Assert.Contains("CLIENT_API_KEY", without.Stderr);
    }

    private Task<CliResult> RunAsync(params string[] args) => RunWithEnvAsync([], args);

    private async Task<CliResult> RunWithEnvAsync(Dictionary<string, string?> env, params string[] args)
    {
        var script = Path.Combine(RepositoryRoot(), "scripts", "aitbc-cli.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var home = new CliHarness(null);
        start.Environment["AITBC_HOME"] = home.Home;
        start.Environment["AITBC_BIN"] = BuiltCli();
        start.Environment["AITBC_URL"] = _fake.Url.ToString();
        start.Environment["CLIENT_API_KEY"] = FakeCoordinator.ClientKey;
        start.Environment["AITBC_RETRY_DELAY_MS"] = "1";
        foreach (var (name, value) in env)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>
    /// The aitbc the Cli project built (same configuration as these tests): the copy beside the tests lacks the
    /// shared-framework assemblies that the tests' ASP.NET reference keeps out of their folder.
    /// </summary>
    private static string BuiltCli()
    {
        var bin = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        var path = Path.Combine(RepositoryRoot(), "src", "Aitbc.Cli", "bin", bin.Parent!.Name, bin.Name, "aitbc");
        return File.Exists(path) ? path : throw new InvalidOperationException($"{path} is missing; build src/Aitbc.Cli first");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aitbc.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("the repository root (Aitbc.slnx) is not above the test binaries");
    }
}
