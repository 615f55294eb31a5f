using System.Text.Json;
using Aitbc.Cli.Tests.Infrastructure;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Cli.Tests;

/// <summary><c>aitbc wallet …</c> against a real in-process node.</summary>
[Collection(NodeCollection.Name)]
public sealed class WalletCommandTests(NodeFixture fixture)
{
    [Fact]
    public async Task Create_writes_an_owner_only_keystore_and_prints_the_address()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", "create", "alice", "--output", "json");

        Assert.Equal(0, result.ExitCode);
        var json = result.Json();
        var address = json.GetProperty("address").GetString();
        Assert.True(Address.TryParse(address, out _));
        var path = Path.Combine(cli.Home, "wallets", "alice.json");
        Assert.Equal(path, json.GetProperty("path").GetString());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
        Assert.DoesNotContain(CliHarness.Password, File.ReadAllText(path));

        var text = await cli.RunAsync("wallet", "address", "--wallet", "alice");
        Assert.Equal(address, text.Stdout.Trim());
    }

    [Fact]
    public async Task Create_in_text_says_where_the_keystore_is()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", "create");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("Created wallet 'default'", result.Stdout);
        Assert.Contains(Path.Combine(cli.Home, "wallets", "default.json"), result.Stdout);
    }

    [Fact]
    public async Task Creating_a_wallet_twice_is_refused()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        await cli.RunAsync("wallet", "create", "bob");

        var again = await cli.RunAsync("wallet", "create", "bob");

        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
    }

    [Fact]
    public async Task The_keystore_holds_no_plaintext_seed_and_opens_only_with_its_password()
    {
        using var key = Ed25519KeyPair.Generate();
        var seed = key.ExportSeed();
        using var cli = new CliHarness(fixture.Node.Url);

        var imported = await cli.RunWithInputAsync(Convert.ToHexString(seed) + "\n", "wallet", "import", "carol");

        Assert.Equal(0, imported.ExitCode);
        Assert.Contains(key.Address.Value, imported.Stdout);
        var file = File.ReadAllText(Path.Combine(cli.Home, "wallets", "carol.json"));
        Assert.DoesNotContain(Convert.ToBase64String(seed), file);
        Assert.DoesNotContain(Convert.ToHexString(seed), file, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("argon2id", file);

        cli.Env["AITBC_WALLET_PASSWORD"] = "wrong password";
        var refused = await cli.RunAsync("wallet", "send", "--wallet", "carol", "--to", key.Address.Value, "--amount", "1", "--sign-only", "--nonce", "1", "--chain-id", "x");

        Assert.Equal(4, refused.ExitCode);
        Assert.Contains("wrong password for wallet 'carol'", refused.Stderr);
        Assert.Empty(refused.Stdout);
    }

    [Fact]
    public async Task Password_comes_from_a_file_before_the_environment()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        var passwordFile = cli.WriteFile("pw.txt", "from the file\n");
        Assert.Equal(0, (await cli.RunAsync("wallet", "create", "dave", "--password-file", passwordFile)).ExitCode);

        var withEnvOnly = await cli.RunAsync("wallet", "send", "-w", "dave", "--to", fixture.Funded(0).Address.Value, "--amount", "1", "--sign-only", "--nonce", "1", "--chain-id", "x");
        var withFile = await cli.RunAsync("wallet", "send", "-w", "dave", "--to", fixture.Funded(0).Address.Value, "--amount", "1", "--sign-only", "--nonce", "1", "--chain-id", "x", "--password-file", passwordFile);

        Assert.Equal(4, withEnvOnly.ExitCode);
        Assert.Equal(0, withFile.ExitCode);
    }

    [Fact]
    public async Task Without_a_password_or_terminal_the_error_says_how_to_give_one()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        cli.Env.Remove("AITBC_WALLET_PASSWORD");

        var result = await cli.RunAsync("wallet", "create", "erin");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--password-file", result.Stderr);
        Assert.Contains("AITBC_WALLET_PASSWORD", result.Stderr);
        Assert.False(File.Exists(Path.Combine(cli.Home, "wallets", "erin.json")));
    }

    [Theory]
    [InlineData("not a seed")]
    [InlineData("AAAA")]
    public async Task Import_refuses_a_malformed_seed_without_echoing_it(string seed)
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunWithInputAsync(seed, "wallet", "import", "frank");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("32 bytes", result.Stderr);
        Assert.DoesNotContain(seed, result.Stderr);
    }

    [Fact]
    public async Task List_shows_every_wallet_in_text_and_json()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        Assert.Contains("No wallets", (await cli.RunAsync("wallet", "list")).Stdout);
        await cli.RunAsync("wallet", "create", "one");
        await cli.RunAsync("wallet", "create", "two");

        var text = await cli.RunAsync("wallet", "list");
        var json = await cli.RunAsync("wallet", "list", "-o", "json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("one", text.Stdout);
        Assert.Contains("two", text.Stdout);
        Assert.Equal(["one", "two"], json.Json().EnumerateArray().Select(w => w.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task An_unknown_wallet_says_how_to_create_one()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", "balance", "--wallet", "ghost");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("aitbc wallet create ghost", result.Stderr);
    }

    [Fact]
    public async Task Balance_reads_the_chain_in_text_and_json()
    {
        using var cli = await fixture.HarnessWithFundedAsync(1);

        var text = await cli.RunAsync("wallet", "balance", "--wallet", "funded");
        var json = await cli.RunAsync("wallet", "balance", "--address", fixture.Funded(1).Address.Value, "--output", "json");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Balance: 1000000 AITBC", text.Stdout);
        Assert.Equal("1000000", json.Json().GetProperty("balance").GetString());
        Assert.Equal(fixture.Funded(1).Address.Value, json.Json().GetProperty("address").GetString());
    }

    [Fact]
    public async Task Send_with_wait_moves_balances_and_history_lists_it()
    {
        using var cli = await fixture.HarnessWithFundedAsync(2);
        await cli.RunAsync("wallet", "create", "payee");
        var payee = (await cli.RunAsync("wallet", "address", "-w", "payee")).Stdout.Trim();

        var sent = await cli.RunAsync("wallet", "send", "-w", "funded", "--to", payee, "--amount", "0.25", "--wait");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        Assert.Contains("Amount: 0.25 AITBC", sent.Stdout);
        Assert.Contains("committed at height", sent.Stdout);
        var payeeBalance = (await cli.RunAsync("wallet", "balance", "-w", "payee", "-o", "json")).Json();
        var payerBalance = (await cli.RunAsync("wallet", "balance", "-w", "funded", "-o", "json")).Json();
        Assert.Equal("0.25", payeeBalance.GetProperty("balance").GetString());
        Assert.Equal("999999.75", payerBalance.GetProperty("balance").GetString());
        Assert.Equal(1UL, payerBalance.GetProperty("nonce").GetUInt64());

        var historyText = await cli.RunAsync("wallet", "history", "-w", "payee");
        var historyJson = (await cli.RunAsync("wallet", "history", "-w", "funded", "-o", "json")).Json();
        Assert.Equal(0, historyText.ExitCode);
        Assert.Contains("0.25 AITBC", historyText.Stdout);
        Assert.Contains(fixture.Funded(2).Address.Value, historyText.Stdout);
        var item = Assert.Single(historyJson.EnumerateArray());
        Assert.Equal("out", item.GetProperty("direction").GetString());
        Assert.Equal(payee, item.GetProperty("to").GetString());
        Assert.Equal("0.25", item.GetProperty("amount").GetString());
    }

    [Fact]
    public async Task Send_without_wait_is_accepted_then_committed_in_json()
    {
        using var cli = await fixture.HarnessWithFundedAsync(3);

        var sent = await cli.RunAsync("wallet", "send", "-w", "funded", "--to", fixture.Funded(4).Address.Value, "--amount", "2", "-o", "json");

        Assert.True(sent.ExitCode == 0, sent.ToString());
        var json = sent.Json();
        Assert.Equal("accepted", json.GetProperty("status").GetString());
        Assert.Equal("transfer", json.GetProperty("type").GetString());
        Assert.Equal("2", json.GetProperty("amount").GetString());
        Assert.Equal(1UL, json.GetProperty("nonce").GetUInt64());
        Assert.Matches("^[0-9A-F]{64}$", json.GetProperty("hash").GetString());
    }

    [Fact]
    public async Task A_send_the_chain_refuses_exits_5_with_the_reason()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        await cli.RunAsync("wallet", "create", "broke");

        var result = await cli.RunAsync("wallet", "send", "-w", "broke", "--to", fixture.Funded(0).Address.Value, "--amount", "1");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("InsufficientFunds", result.Stderr);
        Assert.Contains("aitbc wallet balance", result.Stderr);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("0.0000001")]
    [InlineData("0")]
    public async Task A_bad_amount_is_a_usage_error(string amount)
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", "send", "--to", fixture.Funded(0).Address.Value, "--amount", amount);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--amount", result.Stderr);
    }

    [Theory]
    [InlineData("send", "--to")]
    [InlineData("approve", "--spender")]
    public async Task A_bad_address_is_a_usage_error(string command, string option)
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", command, option, "aitbc1notanaddress", "--amount", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not an address", result.Stderr);
    }

    [Fact]
    public async Task A_missing_required_option_is_a_usage_error()
    {
        using var cli = new CliHarness(fixture.Node.Url);

        var result = await cli.RunAsync("wallet", "send", "--amount", "1");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--to", result.Stderr);
        Assert.Contains("aitbc wallet send --help", result.Stderr);
    }

    [Fact]
    public async Task Sign_only_prints_a_valid_signed_transfer_and_sends_nothing()
    {
        using var cli = await fixture.HarnessWithFundedAsync(5);
        var to = fixture.Funded(6).Address;

        var result = await cli.RunAsync("wallet", "send", "-w", "funded", "--to", to.Value, "--amount", "0.5", "--sign-only");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(SignedTransaction.TryDecode(Convert.FromBase64String(result.Stdout.Trim()), out var tx, out var error), error);
        Assert.True(tx.VerifySignature());
        Assert.Equal(fixture.Node.ChainId, tx.Tx.ChainId);
        Assert.Equal(1UL, tx.Tx.Nonce);
        Assert.Equal(fixture.Funded(5).Address, tx.Sender);
        Assert.Equal(new TransferBody(to, Amount.ParseAitbc("0.5")), tx.Tx.Body);
        var balance = (await cli.RunAsync("wallet", "balance", "-w", "funded", "-o", "json")).Json();
        Assert.Equal(0UL, balance.GetProperty("nonce").GetUInt64());
    }

    [Fact]
    public async Task Sign_only_with_nonce_and_chain_id_needs_no_node()
    {
        using var cli = await fixture.HarnessWithFundedAsync(7);
        cli.Env["AITBC_NODE_URL"] = $"http://127.0.0.1:{CliHarness.ClosedPort()}";

        var result = await cli.RunAsync("wallet", "send", "-w", "funded", "--to", fixture.Funded(0).Address.Value, "--amount", "3",
            "--sign-only", "--nonce", "9", "--chain-id", "offline-chain", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var json = result.Json();
        Assert.Equal("signed", json.GetProperty("status").GetString());
        Assert.True(SignedTransaction.TryDecode(Convert.FromBase64String(json.GetProperty("tx").GetString()!), out var tx, out _));
        Assert.Equal(tx.Hash, json.GetProperty("hash").GetString());
        Assert.Equal(9UL, tx.Tx.Nonce);
        Assert.Equal("offline-chain", tx.Tx.ChainId);
    }

    [Fact]
    public async Task Approve_with_wait_sets_the_allowance_seen_by_balance()
    {
        using var cli = await fixture.HarnessWithFundedAsync(8);
        var spender = fixture.Node.Coordinator.Address.Value;

        var text = await cli.RunAsync("wallet", "approve", "-w", "funded", "--spender", spender, "--amount", "5", "--wait");
        var balance = await cli.RunAsync("wallet", "balance", "-w", "funded");
        var json = await cli.RunAsync("wallet", "balance", "-w", "funded", "-o", "json");

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains("Spender: " + spender, text.Stdout);
        Assert.Contains($"{spender} may spend 5 AITBC", balance.Stdout);
        Assert.Equal("5", json.Json().GetProperty("allowances").GetProperty(spender).GetString());
    }

    [Fact]
    public async Task Approve_sign_only_in_json_carries_an_approve_body()
    {
        using var cli = await fixture.HarnessWithFundedAsync(9);
        var spender = fixture.Node.Coordinator.Address;

        var result = await cli.RunAsync("wallet", "approve", "-w", "funded", "--spender", spender.Value, "--amount", "1.5", "--sign-only", "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(SignedTransaction.TryDecode(Convert.FromBase64String(result.Json().GetProperty("tx").GetString()!), out var tx, out _));
        Assert.Equal(new ApproveBody(spender, Amount.ParseAitbc("1.5")), tx.Tx.Body);
    }

    [Fact]
    public async Task History_of_a_new_wallet_is_empty_in_text_and_json()
    {
        using var cli = new CliHarness(fixture.Node.Url);
        await cli.RunAsync("wallet", "create", "quiet");

        var text = await cli.RunAsync("wallet", "history", "-w", "quiet");
        var json = await cli.RunAsync("wallet", "history", "-w", "quiet", "-o", "json");

        Assert.Contains("No transfers", text.Stdout);
        Assert.Equal(JsonValueKind.Array, json.Json().ValueKind);
        Assert.Equal(0, json.Json().GetArrayLength());
    }
}
