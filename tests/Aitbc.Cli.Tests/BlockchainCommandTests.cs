using Aitbc.Cli.Tests.Infrastructure;

namespace Aitbc.Cli.Tests;

/// <summary><c>aitbc blockchain …</c> against a real in-process node.</summary>
[Collection(NodeCollection.Name)]
public sealed class BlockchainCommandTests(NodeFixture fixture)
{
    /// <summary>Sends one committed transfer so that blocks and a transaction exist; returns its hash and height.</summary>
    private async Task<(string Hash, long Height)> CommitTransferAsync(CliHarness cli)
    {
        var sent = await cli.RunAsync("wallet", "send", "-w", "funded", "--to", fixture.Funded(0).Address.Value, "--amount", "1", "--wait", "-o", "json");
        Assert.True(sent.ExitCode == 0, sent.ToString());
        var json = sent.Json();
        return (json.GetProperty("hash").GetString()!, json.GetProperty("height").GetInt64());
    }

    [Fact]
    public async Task Info_shows_the_chain_and_height_in_text_and_json()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var text = await cli.RunAsync("blockchain", "info");
        var json = await cli.RunAsync("blockchain", "info", "-o", "json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Chain:", text.Stdout);
        Assert.Contains(fixture.Node.ChainId, text.Stdout);
        Assert.Equal(fixture.Node.ChainId, json.Json().GetProperty("chain_id").GetString());
        Assert.True(json.Json().GetProperty("height").GetInt64() >= 0);
    }

    [Fact]
    public async Task Block_shows_a_block_with_its_transactions()
    {
        using var cli = await fixture.HarnessWithFundedAsync(10);
        var (hash, height) = await CommitTransferAsync(cli);

        var text = await cli.RunAsync("blockchain", "block", height.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var json = await cli.RunAsync("blockchain", "block", height.ToString(System.Globalization.CultureInfo.InvariantCulture), "-o", "json");
        var latest = await cli.RunAsync("blockchain", "block", "-o", "json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains(hash, text.Stdout);
        Assert.Equal(height, json.Json().GetProperty("height").GetInt64());
        Assert.Contains(hash, json.Json().GetProperty("txs").EnumerateArray().Select(t => t.GetString()));
        Assert.True(latest.Json().GetProperty("height").GetInt64() >= height);
    }

    [Fact]
    public async Task A_block_above_the_tip_is_refused_with_exit_5()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("blockchain", "block", "999999");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("no block at height 999999", result.Stderr);
    }

    [Fact]
    public async Task Tx_shows_a_committed_transfer_in_text_and_json()
    {
        using var cli = await fixture.HarnessWithFundedAsync(11);
        var (hash, height) = await CommitTransferAsync(cli);

        var text = await cli.RunAsync("blockchain", "tx", hash);
        var json = (await cli.RunAsync("blockchain", "tx", hash.ToLowerInvariant(), "-o", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Result: ok", text.Stdout);
        Assert.Contains("Amount: 1 AITBC", text.Stdout);
        Assert.Contains(fixture.Funded(11).Address.Value, text.Stdout);
        Assert.Equal("transfer", json.GetProperty("type").GetString());
        Assert.Equal(height, json.GetProperty("height").GetInt64());
        Assert.Equal("1000000", json.GetProperty("body").GetProperty("amount").GetString());
        Assert.Equal("1", json.GetProperty("amount").GetString());
    }

    [Fact]
    public async Task An_unknown_tx_exits_5_and_a_malformed_hash_exits_2()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var unknown = await cli.RunAsync("blockchain", "tx", new string('A', 64));
        var malformed = await cli.RunAsync("blockchain", "tx", "xyz");

        Assert.Equal(5, unknown.ExitCode);
        Assert.Contains("no committed transaction", unknown.Stderr);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("64 hex digits", malformed.Stderr);
    }

    [Fact]
    public async Task Validators_lists_the_genesis_validator()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var text = await cli.RunAsync("blockchain", "validators");
        var json = await cli.RunAsync("blockchain", "validators", "-o", "json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("POWER", text.Stdout);
        var validator = Assert.Single(json.Json().EnumerateArray());
        Assert.Matches("^[0-9A-F]{40}$", validator.GetProperty("address").GetString());
        Assert.StartsWith("aitbc1", validator.GetProperty("account_address").GetString());
    }

    [Fact]
    public async Task Supply_is_balanced_in_text_and_json()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var text = await cli.RunAsync("blockchain", "supply");
        var json = (await cli.RunAsync("blockchain", "supply", "-o", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains($"Total supply: {fixture.Node.TotalSupply.ToAitbcString()} AITBC", text.Stdout);
        Assert.Contains("Balanced:     yes", text.Stdout);
        Assert.Equal(fixture.Node.TotalSupply.ToAitbcString(), json.GetProperty("total_supply").GetString());
        Assert.True(json.GetProperty("balanced").GetBoolean());
    }
}
