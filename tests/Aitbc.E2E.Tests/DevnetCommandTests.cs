using System.Diagnostics;
using System.Text.RegularExpressions;
using Aitbc.Client.Coordinator;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.E2E.Tests;

/// <summary><c>aitbc up</c> and <c>aitbc demo</c> as a newcomer runs them: real processes, Ctrl-C, a second start on the same data.</summary>
public sealed partial class DevnetCommandTests : IAsyncLifetime
{
    private readonly string _home = TempDir.Create("devnet");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        TempDir.Delete(_home);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Demo_runs_the_seed_job_and_verifies_its_receipt()
    {
        var (code, stdout, stderr) = await ServiceProcess.RunAsync("aitbc", ["demo", "--backend", "embedded"],
            new Dictionary<string, string> { ["AITBC_HOME"] = Path.Combine(_home, "cli") }, TimeSpan.FromSeconds(180));
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("Status: completed", stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^Cost: \d+(\.\d+)? AITBC$", stdout);
        Assert.Matches(@"(?m)^  ok    on chain\s+recorded at height \d+", stdout);
        Assert.DoesNotContain("FAIL", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_writes_devnet_env_serves_the_cli_stops_on_ctrl_c_and_resumes_the_same_chain()
    {
        var dataDir = Path.Combine(_home, "net");
        var first = await StartUpAsync(dataDir);
        var env = ReadEnv(Path.Combine(dataDir, "devnet.env"));
        foreach (var name in new[] { "AITBC_URL", "AITBC_NODE_URL", "CLIENT_API_KEY", "MINER_API_KEY", "ADMIN_API_KEY" })
        {
            Assert.False(string.IsNullOrEmpty(env.GetValueOrDefault(name)), $"{name} missing from devnet.env");
        }
        env["AITBC_HOME"] = Path.Combine(_home, "cli");
        var submit = await ServiceProcess.RunAsync("aitbc", ["submit", "inference", "--prompt", "What is machine learning?", "--model", "llama3.2:latest", "--wait"], env);
        Assert.True(submit.ExitCode == 0, submit.Stdout + submit.Stderr);
        var jobId = JobId().Match(submit.Stdout).Groups[1].Value;
        var chainBefore = await ServiceProcess.RunAsync("aitbc", ["blockchain", "info", "--output", "json"], env);
        var chainId = ChainId().Match(chainBefore.Stdout).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(chainId), chainBefore.Stdout);

        // Ctrl-C: a clean stop, exit 0.
        Assert.Equal(0, await InterruptAsync(first));

        // The second run adds a miner the genesis never funded: the devnet funds it from the client wallet and it stakes.
        var second = await StartUpAsync(dataDir, miners: 2);
        try
        {
            Assert.Contains($"resuming chain {chainId}", second.Output.ToString(), StringComparison.Ordinal);
            // Free ports differ from run to run; devnet.env follows them, the keys stay.
            var env2 = ReadEnv(Path.Combine(dataDir, "devnet.env"));
            Assert.Equal(env["CLIENT_API_KEY"], env2["CLIENT_API_KEY"]);
            env2["AITBC_HOME"] = env["AITBC_HOME"];
            env = env2;
            using var client = CoordinatorClient.Create(new Uri(env["AITBC_URL"]), env["CLIENT_API_KEY"]);
            var job = await client.GetJobAsync(jobId);
            Assert.Equal(JobStatus.Completed, job.Status);
            var again = await ServiceProcess.RunAsync("aitbc", ["status", jobId], env);
            Assert.True(again.ExitCode == 0, again.Stdout + again.Stderr);
            Assert.Contains("funded miner", second.Output.ToString(), StringComparison.Ordinal);
            var market = await client.GetMarketMinersAsync();
            Assert.Equal(2, market.Miners.Count(m => m.Online && m.Stake != "0"));
        }
        finally
        {
            Assert.Equal(0, await InterruptAsync(second));
        }
    }

    private sealed record Running(Process Process, System.Text.StringBuilder Output);

    /// <summary>Starts <c>aitbc up</c> on free ports and waits for its "is up" line.</summary>
    private async Task<Running> StartUpAsync(string dataDir, int miners = 1)
    {
        var info = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { ServiceProcess.Dll("aitbc"), "up", "--data-dir", dataDir, "--port-base", "0", "--backend", "embedded", "--miners", miners.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["AITBC_HOME"] = Path.Combine(_home, "cli");
        var output = new System.Text.StringBuilder();
        var up = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
            if (e.Data?.StartsWith("AITBC devnet is up", StringComparison.Ordinal) == true)
            {
                up.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var finished = await Task.WhenAny(up.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(120)));
        if (finished != up.Task)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"aitbc up did not come up:\n{output}");
        }
        return new Running(process, output);
    }

    /// <summary>SIGINT, as Ctrl-C sends it; returns the exit code.</summary>
    private static async Task<int> InterruptAsync(Running running)
    {
        using var kill = Process.Start("kill", ["-INT", running.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await running.Process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            running.Process.Kill(entireProcessTree: true);
            Assert.Fail($"aitbc up did not stop on SIGINT:\n{running.Output}");
        }
        Assert.Contains("stopping", running.Output.ToString(), StringComparison.Ordinal);
        return running.Process.ExitCode;
    }

    private static Dictionary<string, string> ReadEnv(string path) =>
        File.ReadAllLines(path).Select(l => EnvLine().Match(l)).Where(m => m.Success).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);

    [GeneratedRegex(@"^export ([A-Z_]+)=(.*)$")]
    private static partial Regex EnvLine();

    [GeneratedRegex(@"(?m)^Job ID: (\S+)")]
    private static partial Regex JobId();

    [GeneratedRegex("\"chain_id\": \"([^\"]+)\"")]
    private static partial Regex ChainId();
}
