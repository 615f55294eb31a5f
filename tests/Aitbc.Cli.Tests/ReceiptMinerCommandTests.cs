using Aitbc.Cli.Tests.Infrastructure;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;

namespace Aitbc.Cli.Tests;

/// <summary>
/// <c>aitbc receipt …</c> and <c>aitbc miner …</c>: receipts served by a fake coordinator, checked against a real
/// in-process chain on which the genesis coordinator key recorded them.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class ReceiptMinerCommandTests(NodeFixture fixture) : IAsyncLifetime
{
    private const int RegisterWallet = 12;
    private const int ReceiptMiner = 13;
    private const int ReceiptClient = 14;
    private const int StatusMiner = 15;

    private FakeCoordinator _fake = null!;

    public async Task InitializeAsync() => _fake = await FakeCoordinator.StartAsync();

    public async Task DisposeAsync() => await _fake.DisposeAsync();

    private async Task<CliHarness> CliAsync(int funded)
    {
        var cli = await fixture.HarnessWithFundedAsync(funded, "miner");
        cli.Env["AITBC_URL"] = _fake.Url.ToString();
        cli.Env["CLIENT_API_KEY"] = FakeCoordinator.ClientKey;
        return cli;
    }

    private CliHarness Cli() => new(fixture.Node.Url, _fake.Url, FakeCoordinator.ClientKey);

    /// <summary>Registers the miner (once), escrows a job for the client and records its receipt on chain as the genesis coordinator.</summary>
    private async Task<Receipt> RecordReceiptAsync(string amountPaid = "0.25")
    {
        var miner = fixture.Funded(ReceiptMiner);
        var client = fixture.Funded(ReceiptClient);
        var coordinatorKey = fixture.Node.Coordinator;
        using var node = NodeClient.Create(fixture.Node.Url);
        if (await node.GetMinerAsync(miner.Address) is null)
        {
            Assert.True((await (await TxSender.CreateAsync(node, miner)).SendAndCommitAsync(new RegisterMinerBody(new Amount(10_000_000)))).IsOk);
        }
        Assert.True((await (await TxSender.CreateAsync(node, client)).SendAndCommitAsync(new ApproveBody(coordinatorKey.Address, new Amount(1_000_000)))).IsOk);
        var coordinator = await TxSender.CreateAsync(node, coordinatorKey);
        var jobId = $"job_{Guid.NewGuid():N}";
        var receiptId = $"receipt_{Guid.NewGuid():N}";
        var promptHash = Hashing.ContentHash("What is machine learning?");
        var resultHash = Hashing.ContentHash("Machine learning is a subset of artificial intelligence...");
        Assert.True((await coordinator.SendAndCommitAsync(new SubmitJobBody(jobId, client.Address, promptHash, new Amount(1_000_000)))).IsOk);
        var proof = new MinerProof(jobId, "llama3.2:latest", promptHash, resultHash, 12.5, 42);
        var signature = proof.Sign(miner);
        var recorded = await coordinator.SendAndCommitAsync(new RecordReceiptBody(receiptId, jobId, miner.Address, new Amount(250_000), resultHash, signature,
            proof.Model, promptHash, proof.ComputeTime, proof.TokensGenerated));
        Assert.True(recorded.IsOk, recorded.Log);
        var receipt = new Receipt(receiptId, jobId, client.Address, miner.Address, proof.Model, promptHash, resultHash, proof.ComputeTime, proof.TokensGenerated,
            "0.02", amountPaid, signature, "2025-01-29T14:50:18.000Z", coordinatorKey.PublicKey.Base64);
        return receipt.SignWith(coordinatorKey) with { Chain = new ChainReference(recorded.Hash, recorded.Height) };
    }

    [Fact]
    public async Task Verify_passes_every_check_for_a_receipt_the_chain_recorded()
    {
        var receipt = await RecordReceiptAsync();
        _fake.Receipts[receipt.ReceiptId] = receipt;
        using var cli = Cli();

        var text = await cli.RunAsync("receipt", "verify", receipt.ReceiptId);
        var json = (await cli.RunAsync("receipt", "verify", receipt.ReceiptId, "--output", "json")).Json();

        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.DoesNotContain("FAIL", text.Stdout);
        Assert.Contains("signatures", text.Stdout);
        Assert.Contains("same amount", text.Stdout);
        Assert.True(json.GetProperty("valid").GetBoolean());
        Assert.Equal(
            ["coordinator", "miner registered", "signatures", "on chain", "same job", "same client", "same miner", "same model", "same prompt hash",
                "same result hash", "same compute time", "same tokens", "same miner signature", "same amount", "price", "same coordinator", "same transaction"],
            json.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("check").GetString()));
        Assert.All(json.GetProperty("checks").EnumerateArray(), c => Assert.True(c.GetProperty("ok").GetBoolean()));
    }

    [Fact]
    public async Task Verify_with_a_pinned_coordinator_key_accepts_only_that_coordinator()
    {
        var receipt = await RecordReceiptAsync();
        _fake.Receipts[receipt.ReceiptId] = receipt;
        using var cli = Cli();
        using var stranger = InProcessNode.Key("not-the-coordinator");

        var pinned = await cli.RunAsync("receipt", "verify", receipt.ReceiptId, "--coordinator-pub-key", fixture.Node.Coordinator.PublicKey.Base64);
        var other = await cli.RunAsync("receipt", "verify", receipt.ReceiptId, "--coordinator-pub-key", stranger.PublicKey.Base64);

        Assert.Equal(0, pinned.ExitCode);
        Assert.Equal(5, other.ExitCode);
        Assert.Contains("FAIL", other.Stdout);
        Assert.Contains("not trusted", other.Stderr);
    }

    [Fact]
    public async Task A_receipt_claiming_more_than_the_chain_paid_fails_verification_with_exit_5()
    {
        var receipt = await RecordReceiptAsync(amountPaid: "0.3");
        _fake.Receipts[receipt.ReceiptId] = receipt;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", receipt.ReceiptId);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("FAIL  same amount", result.Stdout);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains($"receipt {receipt.ReceiptId} did not verify: same amount: receipt says 0.3 AITBC, chain paid 0.25 AITBC", line);
    }

    [Fact]
    public async Task A_receipt_altered_after_signing_fails_the_signature_check()
    {
        var receipt = await RecordReceiptAsync();
        var altered = receipt with { Model = "gpt-5" };
        _fake.Receipts[receipt.ReceiptId] = altered;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", receipt.ReceiptId, "--output", "json");

        Assert.Equal(5, result.ExitCode);
        var signatures = result.Json().GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("check").GetString() == "signatures");
        Assert.False(signatures.GetProperty("ok").GetBoolean());
        Assert.Equal("coordinator signature is invalid", signatures.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_receipt_the_chain_never_recorded_fails_the_chain_check()
    {
        var recorded = await RecordReceiptAsync();
        var unrecorded = (recorded with { ReceiptId = "receipt_never_recorded", Signature = null, Chain = null }).SignWith(fixture.Node.Coordinator);
        _fake.Receipts[unrecorded.ReceiptId] = unrecorded;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", unrecorded.ReceiptId);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("ok    signatures", result.Stdout);
        Assert.Contains("FAIL  on chain", result.Stdout);
    }

    [Fact]
    public async Task A_receipt_from_an_unregistered_miner_cannot_be_verified()
    {
        var recorded = await RecordReceiptAsync();
        using var impostor = InProcessNode.Key("unregistered-miner");
        var forged = (recorded with { Miner = impostor.Address, MinerSignature = recorded.Proof.Sign(impostor), Signature = null, Chain = null })
            .SignWith(fixture.Node.Coordinator);
        _fake.Receipts[forged.ReceiptId] = forged;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", forged.ReceiptId);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("FAIL  miner registered", result.Stdout);
        Assert.Contains("FAIL  signatures            not checked", result.Stdout);
        Assert.Contains("FAIL  same miner", result.Stdout);
    }

    [Fact]
    public async Task A_receipt_with_client_and_price_changed_and_signed_by_its_own_coordinator_key_fails_from_a_file()
    {
        var recorded = await RecordReceiptAsync();
        using var forger = InProcessNode.Key("receipt-forger");
        var forged = (recorded with
        {
            Client = fixture.Funded(RegisterWallet).Address,
            PricePerSecond = "0.001",
            Coordinator = forger.PublicKey.Base64,
            Signature = null,
        }).SignWith(forger);
        using var cli = Cli();
        var file = cli.WriteFile("forged.json", System.Text.Json.JsonSerializer.Serialize(forged, Aitbc.Client.Http.RestJson.Options));

        var result = await cli.RunAsync("receipt", "verify", "--file", file, "--url", $"http://127.0.0.1:{CliHarness.ClosedPort()}");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("FAIL  coordinator ", result.Stdout);
        Assert.Contains($"{forger.Address} is not a coordinator of this chain", result.Stdout);
        Assert.Contains("FAIL  same client ", result.Stdout);
        Assert.Contains("FAIL  price ", result.Stdout);
        Assert.Contains("FAIL  same coordinator ", result.Stdout);
        Assert.Contains("ok    same amount ", result.Stdout);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("coordinator: ", line);
        Assert.Contains($"same client: receipt says {forged.Client}, chain says {recorded.Client}", line);
        Assert.Contains("price: ", line);
        Assert.Contains("same coordinator: ", line);
    }

    [Fact]
    public async Task A_receipt_the_genesis_coordinator_signed_with_other_proof_fields_than_the_chain_fails_each_field()
    {
        var recorded = await RecordReceiptAsync();
        var lying = (recorded with
        {
            Model = "gpt-5",
            PromptHash = Hashing.ContentHash("another prompt"),
            ComputeTime = 30,
            TokensGenerated = 7,
            Signature = null,
        }).SignWith(fixture.Node.Coordinator);
        _fake.Receipts[lying.ReceiptId] = lying;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", lying.ReceiptId, "--output", "json");

        Assert.Equal(5, result.ExitCode);
        var failed = result.Json().GetProperty("checks").EnumerateArray()
            .Where(c => !c.GetProperty("ok").GetBoolean()).Select(c => c.GetProperty("check").GetString()).ToList();
        Assert.Equal(["signatures", "same model", "same prompt hash", "same compute time", "same tokens"], failed);
    }

    [Fact]
    public async Task A_receipt_signed_by_another_genesis_coordinator_than_the_one_that_settled_its_job_fails()
    {
        var recorded = await RecordReceiptAsync();
        var other = fixture.Node.Coordinators[1];
        var resigned = (recorded with { Coordinator = other.PublicKey.Base64, Signature = null }).SignWith(other);
        _fake.Receipts[resigned.ReceiptId] = resigned;
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "verify", resigned.ReceiptId);

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("ok    coordinator ", result.Stdout);
        Assert.Contains("FAIL  same coordinator ", result.Stdout);
        Assert.Contains($"receipt signed by {other.Address}; the chain's escrow was opened by {fixture.Node.Coordinator.Address}", result.Stdout);
    }

    [Fact]
    public async Task A_receipt_whose_job_has_no_escrow_or_an_open_one_fails_saying_what_the_chain_holds()
    {
        var recorded = await RecordReceiptAsync();
        var unknown = (recorded with { ReceiptId = "receipt_no_job", JobId = "job_never_submitted", Signature = null, Chain = null }).SignWith(fixture.Node.Coordinator);
        var openJob = $"job_{Guid.NewGuid():N}";
        using (var node = NodeClient.Create(fixture.Node.Url))
        {
            var client = await TxSender.CreateAsync(node, fixture.Funded(ReceiptClient));
            Assert.True((await client.SendAndCommitAsync(new ApproveBody(fixture.Node.Coordinator.Address, new Amount(1_000_000)))).IsOk);
            var coordinator = await TxSender.CreateAsync(node, fixture.Node.Coordinator);
            var opened = await coordinator.SendAndCommitAsync(new SubmitJobBody(openJob, recorded.Client, recorded.PromptHash, new Amount(1_000_000)));
            Assert.True(opened.IsOk, opened.Log);
        }
        var unsettled = (recorded with { ReceiptId = "receipt_open_job", JobId = openJob, Signature = null, Chain = null }).SignWith(fixture.Node.Coordinator);
        _fake.Receipts[unknown.ReceiptId] = unknown;
        _fake.Receipts[unsettled.ReceiptId] = unsettled;
        using var cli = Cli();

        var none = await cli.RunAsync("receipt", "verify", unknown.ReceiptId);
        var open = await cli.RunAsync("receipt", "verify", unsettled.ReceiptId);

        Assert.Equal(5, none.ExitCode);
        Assert.Contains("FAIL  on chain ", none.Stdout);
        Assert.Contains("the chain has no receipt receipt_no_job and no escrow for job job_never_submitted", none.Stderr);
        Assert.Equal(5, open.ExitCode);
        Assert.Contains($"the chain has no receipt receipt_open_job; the escrow of job {openJob} is still open", open.Stderr);
    }

    [Fact]
    public async Task Show_prints_the_receipt_and_its_json_verifies_offline_from_a_file()
    {
        var receipt = await RecordReceiptAsync();
        _fake.Receipts[receipt.ReceiptId] = receipt;
        using var cli = Cli();

        var text = await cli.RunAsync("receipt", "show", receipt.ReceiptId);
        var json = await cli.RunAsync("receipt", "show", receipt.ReceiptId, "--output", "json");
        var file = cli.WriteFile("receipt.json", json.Stdout);
        var verified = await cli.RunAsync("receipt", "verify", "--file", file, "--url", $"http://127.0.0.1:{CliHarness.ClosedPort()}");

        Assert.Equal(0, text.ExitCode);
        Assert.Contains(receipt.JobId, text.Stdout);
        Assert.Contains("0.25 AITBC", text.Stdout);
        Assert.Contains(receipt.Chain!.TxHash, text.Stdout);
        Assert.Equal(receipt.Signature, json.Json().GetProperty("signature").GetString());
        Assert.Equal(receipt.Chain.TxHash, json.Json().GetProperty("chain").GetProperty("tx_hash").GetString());
        Assert.True(verified.ExitCode == 0, verified.ToString());
    }

    [Fact]
    public async Task An_unknown_receipt_is_exit_5()
    {
        using var cli = Cli();

        var result = await cli.RunAsync("receipt", "show", "receipt_missing");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("receipt receipt_missing not found", result.Stderr);
    }

    [Fact]
    public async Task Miner_register_stake_and_unstake_change_the_chain_record()
    {
        using var cli = await CliAsync(RegisterWallet);
        var key = fixture.Funded(RegisterWallet);

        var registered = await cli.RunAsync("miner", "register", "--wallet", "miner", "--stake", "50", "--output", "json");
        var again = await cli.RunAsync("miner", "register", "--wallet", "miner", "--stake", "1");
        var staked = await cli.RunAsync("miner", "stake", "--wallet", "miner", "--amount", "5", "--output", "json");
        var unstaked = await cli.RunAsync("miner", "unstake", "--wallet", "miner", "--amount", "10", "--output", "json");
        var tooMuch = await cli.RunAsync("miner", "unstake", "--wallet", "miner", "--amount", "1000");

        Assert.True(registered.ExitCode == 0, registered.ToString());
        Assert.Equal(TxType.RegisterMiner, registered.Json().GetProperty("type").GetString());
        Assert.Equal("50", registered.Json().GetProperty("stake").GetString());
        Assert.Equal(key.PublicKey.Base64, registered.Json().GetProperty("pub_key").GetString());
        Assert.Equal(2, again.ExitCode);
        Assert.Contains("already a registered miner with 50 AITBC staked", again.Stderr);
        Assert.Equal("55", staked.Json().GetProperty("stake").GetString());
        Assert.Equal("45", unstaked.Json().GetProperty("stake").GetString());
        Assert.Equal(5, tooMuch.ExitCode);
        Assert.Contains("the chain refused the unstake", tooMuch.Stderr);
        using var node = NodeClient.Create(fixture.Node.Url);
        var onChain = await node.GetMinerAsync(key.Address);
        Assert.NotNull(onChain);
        Assert.Equal(key.PublicKey.Base64, onChain.PubKey);
        Assert.Equal(new Amount(45_000_000), onChain.Stake);
    }

    [Fact]
    public async Task Miner_register_text_says_to_get_a_miner_key_next()
    {
        using var cli = await CliAsync(StatusMiner);

        var result = await cli.RunAsync("miner", "register", "--wallet", "miner", "--stake", "20");
        var status = await cli.RunAsync("miner", "status", "--wallet", "miner");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"aitbc admin keys create --role miner --miner-pub-key {fixture.Funded(StatusMiner).PublicKey.Base64}", result.Stdout);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("20 AITBC", status.Stdout);
        Assert.Contains("not online in the market", status.Stdout);
    }

    [Fact]
    public async Task Miner_status_joins_the_chain_record_and_the_market_view()
    {
        await RecordReceiptAsync();
        var miner = fixture.Funded(ReceiptMiner).Address.Value;
        _fake.Miners = new([new MarketMiner(miner, ["llama3.2:latest"], 2, 1, "0.02", "10", 0.9, true, "2025-01-29T14:50:00.000Z")]);
        using var cli = Cli();

        var json = (await cli.RunAsync("miner", "status", miner, "--output", "json")).Json();
        var text = await cli.RunAsync("miner", "status", miner);

        Assert.True(json.GetProperty("registered").GetBoolean());
        Assert.Equal(fixture.Funded(ReceiptMiner).PublicKey.Base64, json.GetProperty("pub_key").GetString());
        Assert.True(json.GetProperty("coordinator").GetProperty("online").GetBoolean());
        Assert.Contains("online", text.Stdout);
        Assert.Contains("1 of 2", text.Stdout);
    }

    [Fact]
    public async Task Miner_status_of_an_unregistered_address_says_how_to_register()
    {
        using var cli = Cli();
        using var nobody = InProcessNode.Key("never-a-miner");

        var text = await cli.RunAsync("miner", "status", nobody.Address.Value);
        var json = (await cli.RunAsync("miner", "status", nobody.Address.Value, "--output", "json")).Json();

        Assert.Equal(0, text.ExitCode);
        Assert.Contains("aitbc miner register", text.Stdout);
        Assert.False(json.GetProperty("registered").GetBoolean());
        Assert.Equal(0, _fake.Requests);
    }

    [Fact]
    public async Task Miner_stake_before_register_and_a_stake_beyond_the_balance_are_refused()
    {
        using var cli = Cli();
        using var key = Ed25519KeyPair.Generate();
        var seed = cli.WriteFile("seed.txt", Convert.ToBase64String(key.ExportSeed()));
        Assert.Equal(0, (await cli.RunAsync("wallet", "import", "poor", "--seed-file", seed)).ExitCode);

        var stake = await cli.RunAsync("miner", "stake", "--wallet", "poor", "--amount", "1");
        var register = await cli.RunAsync("miner", "register", "--wallet", "poor", "--stake", "1");
        var zero = await cli.RunAsync("miner", "register", "--wallet", "poor", "--stake", "0");

        Assert.Equal(2, stake.ExitCode);
        Assert.Contains("not a registered miner", stake.Stderr);
        Assert.Equal(5, register.ExitCode);
        Assert.Contains("the chain refused the register_miner", register.Stderr);
        Assert.Equal(2, zero.ExitCode);
    }
}
