using Aitbc.Node.Tests.Infrastructure;

namespace Aitbc.Node.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Validator_starts_and_commits_a_transfer()
    {
        await using var net = await TestNet.CreateAsync("smoke", fundedWallets: 2);
        var node = await net.StartValidatorAsync();
        var height = await node.Rpc.CommitOkAsync(net.Funded[0].Transfer(net.Funded[1].Address, 5));
        Assert.Equal(1, height);
    }
}
