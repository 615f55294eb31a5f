using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class ChainRegistrationTests
{
    [Fact]
    public async Task On_start_a_funded_miner_unknown_to_the_chain_registers_itself_with_its_stake()
    {
        await using var node = await InProcessNode.StartAsync("miner-chain", fundedWallets: 1);
        await using var coordinator = await FakeCoordinator.StartNewAsync();
        var dir = TempDir.Create("miner-chain");
        try
        {
            var options = TestMiner.Options(coordinator.Url, dir) with
            {
                MinerKey = node.Funded[0],
                NodeUrl = node.Url,
                RegisterOnChain = true,
                Stake = Amount.FromAitbc(250),
            };
            using var client = NodeClient.Create(node.Url);
            Assert.Null(await client.GetMinerAsync(node.Funded[0].Address));

            await using var miner = await TestMiner.StartAsync(options);

            MinerInfo? info = null;
            await Poll.UntilAsync(async () => (info = await client.GetMinerAsync(miner.Address)) is not null, 15_000);
            Assert.Equal(Amount.FromAitbc(250), info!.Stake);
            Assert.Equal(miner.PublicKey.Base64, info.PubKey);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }

    [Fact]
    public async Task An_unfunded_miner_logs_its_address_and_keeps_serving()
    {
        await using var node = await InProcessNode.StartAsync("miner-poor", fundedWallets: 1);
        await using var coordinator = await FakeCoordinator.StartNewAsync();
        var dir = TempDir.Create("miner-poor");
        try
        {
            var options = TestMiner.Options(coordinator.Url, dir) with { NodeUrl = node.Url, RegisterOnChain = true };
            await using var miner = await TestMiner.StartAsync(options);
            var log = Path.Combine(options.EffectiveLogDirectory, "miner.log");

            await Poll.UntilAsync(() => Task.FromResult(File.Exists(log) && ReadShared(log).Contains("lacks funds", StringComparison.Ordinal)), 15_000);

            Assert.Contains(miner.Address.ToString(), ReadShared(log));
            Assert.True(miner.Registered);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}
