using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests;

/// <summary>
/// A follower whose "validator" serves a tampered block 2 (through an in-test proxy of the real validator) must
/// refuse it and stop syncing: /readyz 503 "halted" with the reason, the reason in node.log, height below 2.
/// </summary>
public sealed class TamperedBlockTests(ITestOutputHelper output)
{
    private const long TamperedHeight = 2;

    private static bool IsBlock(string method, JsonObject parameters, long height) =>
        method == "block" && parameters["height"]?.ToString() == height.ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task Follower_refuses_tampered_blocks_and_halts_with_the_reason()
    {
        await using var net = await TestNet.CreateAsync("tamper", fundedWallets: 2);
        var validator = await net.StartValidatorAsync();
        var recipient = net.NewWallet("tamper-recipient").Address;
        for (var i = 0; i < 4; i++)
        {
            await validator.Rpc.CommitOkAsync(net.Funded[0].Transfer(recipient, 10 + (ulong)i));
        }

        // One proxy adds a tx to block 2 (its data_hash no longer matches); the other rewrites block 2's app_hash
        // (the header no longer matches the validator's signature).
        await using var extraTx = await TamperingProxy.StartAsync(validator.Url, (method, parameters, result) =>
        {
            if (!IsBlock(method, parameters, TamperedHeight))
            {
                return false;
            }
            var txs = result["block"]!["data"]!["txs"]!.AsArray();
            txs.Add(txs[0]!.DeepClone());
            return true;
        });
        await using var otherAppHash = await TamperingProxy.StartAsync(validator.Url, (method, parameters, result) =>
        {
            if (!IsBlock(method, parameters, TamperedHeight))
            {
                return false;
            }
            result["block"]!["header"]!["app_hash"] = new string('0', 64);
            return true;
        });

        var followers = await Task.WhenAll(
            net.StartFollowerAsync(extraTx.Url, "follower-extra-tx"),
            net.StartFollowerAsync(otherAppHash.Url, "follower-app-hash"));
        var expectations = new[] { (followers[0], extraTx, "data_hash"), (followers[1], otherAppHash, "signed") };

        foreach (var (follower, proxy, why) in expectations)
        {
            var reason = await Poll.UntilAsync(async () =>
            {
                using var ready = await follower.Rpc.Http.GetAsync("readyz");
                if (ready.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    return null;
                }
                using var body = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
                Assert.Equal("halted", body.RootElement.GetProperty("status").GetString());
                return body.RootElement.GetProperty("reason").GetString();
            }, TimeSpan.FromSeconds(30), $"{follower.DataDir} to halt");
            output.WriteLine($"{Path.GetFileName(follower.DataDir)}: {reason}");
            Assert.True(proxy.TamperedCount > 0);
            Assert.Contains($"block {TamperedHeight}", reason);
            Assert.Contains(why, reason);
            await Poll.UntilAsync(async () => File.Exists(follower.LogPath) && (await ReadSharedAsync(follower.LogPath)).Contains(reason!, StringComparison.Ordinal),
                TimeSpan.FromSeconds(10), "the halt reason in node.log");
            Assert.True(await follower.Rpc.HeightAsync() < TamperedHeight);
        }

        // The validator goes on; the halted followers stay below the tampered block.
        await validator.Rpc.CommitOkAsync(net.Funded[1].Transfer(recipient, 99));
        var validatorHeight = await validator.Rpc.HeightAsync();
        foreach (var (follower, _, _) in expectations)
        {
            Assert.Equal(TamperedHeight - 1, await follower.Rpc.HeightAsync());
            Assert.False(follower.HasExited, "a halted follower keeps serving what it has");
        }
        Assert.True(validatorHeight > TamperedHeight);
    }

    /// <summary>Reads a file another process is still writing.</summary>
    private static async Task<string> ReadSharedAsync(string path)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        return await reader.ReadToEndAsync();
    }
}
