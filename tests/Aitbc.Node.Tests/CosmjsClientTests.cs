using System.Diagnostics;
using System.Text.Json;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests;

/// <summary>The real @cosmjs/tendermint-rpc 0.39.0 client (connectComet → Comet38Client) against a real node process.</summary>
public sealed class CosmjsClientTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cosmjs_comet38_client_decodes_every_answer_and_sees_committed_transfers()
    {
        await EnsureNpmPackagesAsync();
        await using var net = await TestNet.CreateAsync("cosmjs", fundedWallets: 3);
        var validator = await net.StartValidatorAsync();
        await RunCheckAsync(net, validator, validator, net.Funded[0]);
    }

    /// <summary>
    /// The same client through a follower: broadcasts are forwarded to the validator, and what the client reads back
    /// at the height broadcast_tx_commit named (block, tx, abci_query) must already be on the follower.
    /// </summary>
    [Fact]
    public async Task Cosmjs_client_works_through_a_follower()
    {
        await EnsureNpmPackagesAsync();
        await using var net = await TestNet.CreateAsync("cosmjs-follow", fundedWallets: 3);
        var validator = await net.StartValidatorAsync();
        var follower = await net.StartFollowerAsync(validator.Url);
        await RunCheckAsync(net, follower, validator, net.Funded[1]);
        await RunCheckAsync(net, follower, validator, net.Funded[0]);
    }

    private async Task RunCheckAsync(TestNet net, NodeProcess node, NodeProcess validator, Wallet sender)
    {
        var recipient = net.Funded[2].Address;
        var syncTx = sender.Transfer(recipient, 1_500_000);
        var commitTx = sender.Transfer(recipient, 2_500_000);

        var (exitCode, stdout, stderr) = await RunAsync("node", RepoPaths.JsDirectory, TimeSpan.FromSeconds(60),
            "cosmjs-check.mjs", node.Url.AbsoluteUri, sender.Address.Value,
            Convert.ToBase64String(syncTx.WireBytes), Convert.ToBase64String(commitTx.WireBytes));
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.True(exitCode == 0, $"cosmjs-check exited {exitCode}:\n{stderr}\n{stdout}\nnode output:\n{node.OutputTail}");

        using var summary = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]);
        var root = summary.RootElement;
        Assert.Equal("Comet38Client", root.GetProperty("client").GetString());
        Assert.StartsWith("0.38.", root.GetProperty("status").GetProperty("version").GetString());
        Assert.Equal(net.ChainId, root.GetProperty("status").GetProperty("network").GetString());
        Assert.Equal(syncTx.Hash, root.GetProperty("sync").GetProperty("hash").GetString());
        Assert.Equal(0, root.GetProperty("sync").GetProperty("code").GetInt32());
        var commit = root.GetProperty("commit");
        Assert.Equal(commitTx.Hash, commit.GetProperty("hash").GetString());
        var height = commit.GetProperty("height").GetInt64();
        Assert.True(height > 0);
        Assert.Equal(0, commit.GetProperty("txCode").GetInt32());
        Assert.Equal(height, root.GetProperty("block").GetProperty("height").GetInt64());
        Assert.Equal(net.ChainId, root.GetProperty("block").GetProperty("chainId").GetString());
        Assert.True(root.GetProperty("blockchain").GetProperty("lastHeight").GetInt64() >= height);
        Assert.Equal(commitTx.Hash, root.GetProperty("tx").GetProperty("hash").GetString());
        Assert.Equal(height, root.GetProperty("tx").GetProperty("height").GetInt64());
        var account = root.GetProperty("account");
        Assert.Equal(sender.Address.Value, account.GetProperty("address").GetString());
        Assert.Equal(2UL, account.GetProperty("nonce").GetUInt64());
        Assert.Equal((TestNet.FundedMicro - 4_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture), account.GetProperty("balance").GetString());

        // What cosmjs saw is what the validator holds.
        var block = await validator.Rpc.CallAsync("block", new() { ["height"] = height.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        Assert.Equal(block.GetProperty("block_id").GetProperty("hash").GetString(), root.GetProperty("block").GetProperty("hash").GetString());
    }

    private static readonly SemaphoreSlim NpmGate = new(1, 1);

    /// <summary>scripts/test.sh runs <c>npm ci</c> before the tests; when run alone, the test does it once itself.</summary>
    private async Task EnsureNpmPackagesAsync()
    {
        await NpmGate.WaitAsync();
        try
        {
            if (Directory.Exists(Path.Combine(RepoPaths.JsDirectory, "node_modules", "@cosmjs", "tendermint-rpc")))
            {
                return;
            }
            var (exitCode, stdout, stderr) = await RunAsync("npm", RepoPaths.JsDirectory, TimeSpan.FromMinutes(3), "ci", "--no-audit", "--no-fund", "--loglevel=error");
            Assert.True(exitCode == 0, $"npm ci failed in {RepoPaths.JsDirectory} ({exitCode}):\n{stderr}\n{stdout}");
            output.WriteLine("npm ci: " + stdout);
        }
        finally
        {
            NpmGate.Release();
        }
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string file, string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout.TotalSeconds}s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
