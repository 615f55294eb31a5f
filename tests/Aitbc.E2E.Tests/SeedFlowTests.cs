using System.Globalization;
using System.Text.RegularExpressions;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;

namespace Aitbc.E2E.Tests;

/// <summary>
/// The seed's flow and its error paths across real processes: the aitbc CLI → coordinator → chain → miner →
/// llama.cpp (or the fake Ollama edge) → back, with the money checked on chain after each.
/// </summary>
[Collection(E2ECollection.Name)]
public sealed partial class SeedFlowTests(E2ENetwork net)
{
    private const string SeedPrompt = "What is machine learning?";

    [Fact]
    public async Task Seed_job_passes_every_state_and_the_miner_is_paid_exactly_the_cost()
    {
        var clientBefore = await BalanceAsync(net.ClientKey.Address);
        var minersBefore = await Task.WhenAll(net.MinerKeys.Select(k => BalanceAsync(k.Address)));

        var (code, stdout, stderr) = await net.CliAsync("submit", "inference", "--prompt", SeedPrompt, "--model", E2ENetwork.SeedModel, "--wait");
        Assert.True(code == 0, stdout + stderr);
        // Step 12, as the seed prints it.
        var jobId = Field(stdout, "Job ID");
        Assert.Equal("completed", Field(stdout, "Status"));
        Assert.False(string.IsNullOrWhiteSpace(Field(stdout, "Result")));
        var receiptId = Field(stdout, "Receipt");
        Assert.Matches(@"^\d+(\.\d)? seconds?$", Field(stdout, "Completed in"));
        Assert.Matches(@"^\d+(\.\d+)? AITBC$", Field(stdout, "Cost"));

        // pending → assigned → running → completed, each stamped in order.
        using var api = net.ClientApi();
        var job = await api.GetJobAsync(jobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        var stamps = new[] { job.SubmittedAt, job.AssignedAt, job.StartedAt, job.CompletedAt }.Select(t => DateTimeOffset.Parse(t!, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(stamps.Zip(stamps.Skip(1)).All(p => p.First <= p.Second), string.Join(" ≤ ", stamps));
        var cost = Amount.ParseAitbc(job.Cost!);
        Assert.Equal($"{job.Cost} AITBC", Field(stdout, "Cost"));

        // The receipt verifies offline (coordinator and miner signatures) and lands on chain at a height.
        var receipt = await WaitForChainReceiptAsync(api, receiptId);
        var minerIndex = net.MinerKeys.ToList().FindIndex(k => k.Address.Equals(receipt.Miner));
        Assert.True(minerIndex >= 0, $"paid miner {receipt.Miner} is not one of ours");
        Assert.True(receipt.Verify(net.MinerKeys[minerIndex].PublicKey, net.CoordinatorKey.PublicKey).Valid);
        Assert.Equal(job.Cost, receipt.AmountPaid);
        var verify = await net.CliAsync("receipt", "verify", receiptId);
        Assert.True(verify.ExitCode == 0, verify.Stdout + verify.Stderr);

        // Money: the client paid the cost, the miner got it, escrow is closed, nothing minted or lost.
        var escrow = await net.Node.GetEscrowAsync(jobId);
        Assert.Equal(EscrowStatus.Paid, escrow!.Status);
        Assert.Equal(cost, escrow.Paid);
        Assert.Equal(clientBefore - cost, await BalanceAsync(net.ClientKey.Address));
        Assert.Equal(minersBefore[minerIndex] + cost, await BalanceAsync(net.MinerKeys[minerIndex].Address));
        await AssertSupplyAsync();
    }

    [Fact]
    public async Task Invalid_prompt_is_refused_with_400_and_a_cli_error()
    {
        using var api = net.ClientApi();
        var refused = await Assert.ThrowsAsync<RestApiException>(() => api.SubmitJobAsync(new JobSubmission("inference", "", E2ENetwork.SeedModel)));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("prompt", refused.Message, StringComparison.OrdinalIgnoreCase);

        var tooLong = new string('x', 40 * 1024);
        var (code, stdout, stderr) = await net.CliAsync("submit", "inference", "--prompt", tooLong, "--model", E2ENetwork.SeedModel);
        Assert.NotEqual(0, code);
        Assert.Contains("prompt", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task No_miner_for_the_model_fails_after_the_queue_timeout_and_refunds()
    {
        var clientBefore = await BalanceAsync(net.ClientKey.Address);
        var (code, stdout, stderr) = await net.CliAsync("submit", "inference", "--prompt", SeedPrompt, "--model", E2ENetwork.UnservedModel, "--wait");
        Assert.Equal(1, code);
        Assert.Contains("no miner available", stdout + stderr, StringComparison.OrdinalIgnoreCase);
        var jobId = Field(stdout, "Job ID");
        await AssertRefundedAsync(jobId);
        Assert.Equal(clientBefore, await BalanceAsync(net.ClientKey.Address));
        await AssertSupplyAsync();
    }

    [Fact]
    public async Task Backend_error_fails_the_job_refunds_it_and_pays_nobody()
    {
        var clientBefore = await BalanceAsync(net.ClientKey.Address);
        var ollamaMiners = net.MinerKeys.Skip(2).Select(k => k.Address).ToList();
        var minersBefore = await Task.WhenAll(ollamaMiners.Select(BalanceAsync));
        var (code, stdout, stderr) = await net.CliAsync("submit", "inference", "--prompt", SeedPrompt, "--model", E2ENetwork.BrokenModel, "--wait");
        Assert.Equal(1, code);
        Assert.Equal("failed", Field(stdout, "Status"));
        Assert.Contains("terminated", stdout + stderr, StringComparison.Ordinal);
        await AssertRefundedAsync(Field(stdout, "Job ID"));
        Assert.Equal(clientBefore, await BalanceAsync(net.ClientKey.Address));
        Assert.Equal(minersBefore, await Task.WhenAll(ollamaMiners.Select(BalanceAsync)));
        await AssertSupplyAsync();
    }

    [Fact]
    public async Task Coordinator_briefly_unreachable_the_cli_retries_and_one_job_is_made()
    {
        using var api = net.ClientApi();
        var before = (await api.ListJobsAsync(limit: 100)).Jobs.Count;
        // The first two connections are reset, as while a coordinator restarts behind a balancer.
        await using var proxy = new FlakyProxy(net.CoordinatorUrl, refuse: 2);
        var (code, stdout, stderr) = await ServiceProcess.RunAsync("aitbc",
            ["submit", "inference", "--prompt", SeedPrompt, "--model", E2ENetwork.SeedModel, "--wait"], net.CliEnvironment(proxy.Url), TimeSpan.FromSeconds(120));
        Assert.True(code == 0, stdout + stderr);
        Assert.True(proxy.Connections >= 3, $"{proxy.Connections} connections");
        Assert.Equal(before + 1, (await api.ListJobsAsync(limit: 100)).Jobs.Count);
        await WaitForChainReceiptAsync(api, Field(stdout, "Receipt"));
        await AssertSupplyAsync();
    }

    [Fact]
    public async Task Two_miners_the_scheduler_picks_the_one_its_formula_ranks_first()
    {
        using var api = net.ClientApi();
        var market = await api.GetMarketMinersAsync();
        var candidates = market.Miners.Where(m => m.Online && m.Models.Contains(E2ENetwork.SeedModel)).ToList();
        Assert.Equal(2, candidates.Count);
        // docs/coordinator.md: score = (1 + ln(1 + stake)) × (0.5 + reputation) / price; highest wins, ties by address.
        var expected = candidates
            .OrderByDescending(m => (1 + Math.Log(1 + (double)decimal.Parse(m.Stake, CultureInfo.InvariantCulture))) * (0.5 + m.Reputation)
                / (double)decimal.Parse(m.PricePerSecond, CultureInfo.InvariantCulture))
            .ThenBy(m => m.Address, StringComparer.Ordinal)
            .First();
        var accepted = await api.SubmitJobAsync(new JobSubmission("inference", SeedPrompt, E2ENetwork.SeedModel));
        var job = await api.WaitForJobAsync(accepted.JobId);
        Assert.Equal(JobStatus.Completed, job.Status);
        Assert.Equal(expected.Address, job.Miner);
        await WaitForChainReceiptAsync(api, job.ReceiptId!);
    }

    [Fact]
    public async Task Miner_killed_mid_job_the_job_fails_and_the_money_is_conserved()
    {
        var clientBefore = await BalanceAsync(net.ClientKey.Address);
        using var api = net.ClientApi();
        var accepted = await api.SubmitJobAsync(new JobSubmission("inference", SeedPrompt, E2ENetwork.StalledModel));
        await Poll.UntilAsync(async () => (await api.GetJobAsync(accepted.JobId)).Status == JobStatus.Running && net.Ollama.Stalled > 0, 30_000);

        var running = await api.GetJobAsync(accepted.JobId);
        var victim = net.MinerKeys.ToList().FindIndex(k => k.Address.Value == running.Miner);
        Assert.True(victim >= 2, $"the stalled job went to {running.Miner}");
        await net.Miners[victim].KillAsync();
        // Documented policy (docs/coordinator.md): a job whose miner goes offline is failed and refunded, not requeued.
        var job = await api.WaitForJobAsync(accepted.JobId);
        Assert.Equal(JobStatus.Failed, job.Status);
        Assert.Contains("offline", job.Error, StringComparison.OrdinalIgnoreCase);
        await AssertRefundedAsync(accepted.JobId);
        Assert.Equal(clientBefore, await BalanceAsync(net.ClientKey.Address));
        await AssertSupplyAsync();
    }

    [Fact]
    public async Task The_seed_wrapper_works_as_written()
    {
        var wrapper = Path.Combine(ServiceProcess.RepoRoot, "scripts", "aitbc-cli.sh");
        var env = net.CliEnvironment();
        env["AITBC_BIN"] = CliShim();
        var submit = await ServiceProcess.RunFileAsync(wrapper, ["submit", "inference", "--prompt", SeedPrompt, "--model", E2ENetwork.SeedModel], env, TimeSpan.FromSeconds(120));
        Assert.True(submit.ExitCode == 0, submit.Stdout + submit.Stderr);
        var jobId = Field(submit.Stdout, "Job ID");
        var status = await ServiceProcess.RunFileAsync(wrapper, ["status", jobId, "--wait"], env, TimeSpan.FromSeconds(120));
        Assert.True(status.ExitCode == 0, status.Stdout + status.Stderr);
        Assert.Equal("completed", Field(status.Stdout, "Status"));
        using var api = net.ClientApi();
        await WaitForChainReceiptAsync(api, Field(status.Stdout, "Receipt"));
    }

    private async Task<Amount> BalanceAsync(Address address) => (await net.Node.GetAccountAsync(address)).Balance;

    private async Task AssertSupplyAsync()
    {
        var supply = await net.Node.GetSupplyAsync();
        Assert.True(supply.IsBalanced, $"supply {supply.TotalSupply} counted {supply.Counted}");
        Assert.Equal(net.TotalSupply, supply.TotalSupply);
    }

    /// <summary>Waits for the refund to commit: the escrow is closed as refunded, nothing paid.</summary>
    private async Task AssertRefundedAsync(string jobId)
    {
        EscrowInfo? escrow = null;
        await Poll.UntilAsync(async () => (escrow = await net.Node.GetEscrowAsync(jobId)) is { IsOpen: false }, 30_000);
        Assert.Equal(EscrowStatus.Refunded, escrow!.Status);
        Assert.Equal(escrow.Amount, escrow.Refunded);
    }

    private static async Task<Aitbc.Core.Proofs.Receipt> WaitForChainReceiptAsync(CoordinatorClient api, string receiptId)
    {
        Aitbc.Core.Proofs.Receipt? receipt = null;
        await Poll.UntilAsync(async () => (receipt = await api.GetReceiptAsync(receiptId)).Chain?.BlockHeight is > 0, 30_000);
        return receipt!;
    }

    /// <summary>The value of a seed-style <c>Label: value</c> line.</summary>
    internal static string Field(string output, string label)
    {
        var match = Regex.Match(output, "^" + Regex.Escape(label) + @":\s*(.*)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"no '{label}:' line in:\n{output}");
        return match.Groups[1].Value.TrimEnd('\r');
    }

    /// <summary>An <c>aitbc</c> executable for AITBC_BIN: the built CLI, as an installed tool would be.</summary>
    private static string CliShim()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "aitbc-shim.sh");
        File.WriteAllText(path, $"#!/usr/bin/env bash\nexec dotnet \"{ServiceProcess.Dll("aitbc")}\" \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }
}
