using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Proofs;

namespace Aitbc.Core.Tests.Proofs;

public class ReceiptTests
{
    private static readonly string[] SignedFieldNames =
    [
        "receipt_id", "job_id", "client", "miner", "model", "prompt_hash", "result_hash", "compute_time",
        "tokens_generated", "price_per_second", "amount_paid", "miner_signature", "issued_at", "coordinator",
    ];

    public static TheoryData<string> TamperableFields =>
        ["receipt_id", "job_id", "client", "miner", "model", "prompt_hash", "result_hash", "compute_time",
         "tokens_generated", "price_per_second", "amount_paid", "miner_signature", "issued_at"];

    /// <summary>An unsigned receipt whose miner_signature is the miner's valid proof signature.</summary>
    private static Receipt Unsigned()
    {
        var receipt = new Receipt(
            ReceiptId: "rcpt-1",
            JobId: "job-1",
            Client: TestKeys.Alice.Address,
            Miner: TestKeys.Miner.Address,
            Model: "llama3.2:1b",
            PromptHash: Hashing.ContentHash("prompt"),
            ResultHash: Hashing.ContentHash("result"),
            ComputeTime: 2.5,
            TokensGenerated: 128,
            PricePerSecond: "0.01",
            AmountPaid: "0.025",
            MinerSignature: "",
            IssuedAt: "2024-01-02T03:04:05.0000000Z",
            Coordinator: TestKeys.Coordinator.PublicKey.Base64);
        return receipt with { MinerSignature = receipt.Proof.Sign(TestKeys.Miner) };
    }

    private static Receipt Signed() => Unsigned().SignWith(TestKeys.Coordinator);

    private static Receipt Tamper(Receipt r, string field) => field switch
    {
        "receipt_id" => r with { ReceiptId = "rcpt-2" },
        "job_id" => r with { JobId = "job-2" },
        "client" => r with { Client = TestKeys.Bob.Address },
        "miner" => r with { Miner = TestKeys.Bob.Address },
        "model" => r with { Model = "llama3.2:3b" },
        "prompt_hash" => r with { PromptHash = Hashing.ContentHash("other prompt") },
        "result_hash" => r with { ResultHash = Hashing.ContentHash("other result") },
        "compute_time" => r with { ComputeTime = 2.75 },
        "tokens_generated" => r with { TokensGenerated = 129 },
        "price_per_second" => r with { PricePerSecond = "0.02" },
        "amount_paid" => r with { AmountPaid = "0.05" },
        "miner_signature" => r with { MinerSignature = r.Proof.Sign(TestKeys.Alice) },
        "issued_at" => r with { IssuedAt = "2024-01-02T03:04:06.0000000Z" },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    [Fact]
    public void Signed_receipt_verifies_against_the_trusted_coordinator()
    {
        var receipt = Signed();

        var result = receipt.Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.True(result.Valid, result.Reason);
    }

    [Fact]
    public void Signed_receipt_verifies_without_a_pinned_coordinator()
    {
        var result = Signed().Verify(TestKeys.Miner.PublicKey);

        Assert.True(result.Valid, result.Reason);
    }

    [Fact]
    public void Signing_bytes_are_jcs_of_exactly_the_fourteen_receipt_fields()
    {
        var receipt = Signed() with { Chain = new ChainReference("AB", 7) };

        var signed = JsonNode.Parse(receipt.SigningBytes())!.AsObject();

        Assert.Equal(SignedFieldNames.Order(StringComparer.Ordinal), signed.Select(p => p.Key));
        Assert.True(CanonicalJson.IsCanonical(receipt.SigningBytes()));
    }

    [Fact]
    public void Signature_is_ed25519_by_the_coordinator_over_jcs_of_the_fourteen_fields()
    {
        // Rebuilt by hand, as an independent verifier (another language, the CLI) would.
        var receipt = Signed();
        var fields = new JsonObject
        {
            ["receipt_id"] = receipt.ReceiptId,
            ["job_id"] = receipt.JobId,
            ["client"] = receipt.Client.Value,
            ["miner"] = receipt.Miner.Value,
            ["model"] = receipt.Model,
            ["prompt_hash"] = receipt.PromptHash,
            ["result_hash"] = receipt.ResultHash,
            ["compute_time"] = receipt.ComputeTime,
            ["tokens_generated"] = receipt.TokensGenerated,
            ["price_per_second"] = receipt.PricePerSecond,
            ["amount_paid"] = receipt.AmountPaid,
            ["miner_signature"] = receipt.MinerSignature,
            ["issued_at"] = receipt.IssuedAt,
            ["coordinator"] = receipt.Coordinator,
        };

        var valid = TestKeys.Coordinator.PublicKey.Verify(CanonicalJson.Serialize(fields), Convert.FromBase64String(receipt.Signature!));

        Assert.True(valid);
    }

    [Theory]
    [MemberData(nameof(TamperableFields))]
    public void Changing_a_signed_field_invalidates_the_receipt(string field)
    {
        var receipt = Signed();

        var result = Tamper(receipt, field).Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.False(result.Valid);
    }

    [Fact]
    public void Chain_reference_added_after_signing_keeps_the_receipt_valid()
    {
        var receipt = Signed() with { Chain = new ChainReference(new string('A', 64), 42) };

        var result = receipt.Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.True(result.Valid, result.Reason);
        Assert.Equal(Signed().SigningBytes(), receipt.SigningBytes());
    }

    [Fact]
    public void Receipt_signed_by_an_untrusted_coordinator_is_invalid()
    {
        var rogue = Unsigned() with { Coordinator = TestKeys.Bob.PublicKey.Base64 };
        var receipt = rogue.SignWith(TestKeys.Bob);

        var result = receipt.Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.False(result.Valid);
        Assert.Contains("not trusted", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Coordinator_field_swapped_after_signing_is_invalid()
    {
        var receipt = Signed() with { Coordinator = TestKeys.Bob.PublicKey.Base64 };

        var result = receipt.Verify(TestKeys.Miner.PublicKey);

        Assert.False(result.Valid);
    }

    [Fact]
    public void Miner_key_that_does_not_match_the_miner_address_is_invalid()
    {
        var result = Signed().Verify(TestKeys.Bob.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.False(result.Valid);
        Assert.Contains("miner key", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Receipt_whose_miner_signature_is_not_the_miners_is_invalid()
    {
        // Signed by the coordinator as issued, but the proof signature inside was never the miner's.
        var receipt = (Unsigned() with { MinerSignature = Unsigned().Proof.Sign(TestKeys.Alice) }).SignWith(TestKeys.Coordinator);

        var result = receipt.Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey);

        Assert.False(result.Valid);
        Assert.Contains("miner signature", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unsigned_receipt_is_invalid()
    {
        var result = Unsigned().Verify(TestKeys.Miner.PublicKey);

        Assert.False(result.Valid);
        Assert.Contains("coordinator signature", result.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a key")]
    public void Receipt_with_a_malformed_coordinator_key_is_invalid(string coordinator)
    {
        var receipt = Signed() with { Coordinator = coordinator };

        var result = receipt.Verify(TestKeys.Miner.PublicKey);

        Assert.False(result.Valid);
    }

    [Fact]
    public void Signature_in_a_non_canonical_base64_spelling_is_invalid()
    {
        var receipt = Signed();
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var signature = receipt.Signature!;
        var respelled = signature[..^3] + alphabet[alphabet.IndexOf(signature[^3], StringComparison.Ordinal) | 0x01] + "==";
        Assert.NotEqual(signature, respelled);

        var result = (receipt with { Signature = respelled }).Verify(TestKeys.Miner.PublicKey);

        Assert.False(result.Valid);
    }

    [Fact]
    public void SignWith_refuses_a_key_that_is_not_the_receipts_coordinator()
    {
        Assert.Throws<ArgumentException>(() => Unsigned().SignWith(TestKeys.Bob));
    }

    [Fact]
    public void Proof_carries_the_receipts_proof_fields()
    {
        var receipt = Unsigned();

        var expected = new MinerProof(receipt.JobId, receipt.Model, receipt.PromptHash, receipt.ResultHash, receipt.ComputeTime, receipt.TokensGenerated);

        Assert.Equal(expected, receipt.Proof);
    }

    [Fact]
    public void Receipt_survives_a_json_round_trip_and_still_verifies()
    {
        var receipt = Signed() with { Chain = new ChainReference(new string('A', 64), 42) };

        var json = JsonSerializer.Serialize(receipt, WireJson.Options);
        var read = JsonSerializer.Deserialize<Receipt>(json, WireJson.Options)!;

        Assert.Equal(receipt, read);
        Assert.True(read.Verify(TestKeys.Miner.PublicKey, TestKeys.Coordinator.PublicKey).Valid);
    }

    [Fact]
    public void Receipt_json_has_the_signed_fields_plus_signature_and_chain_only()
    {
        var receipt = Signed() with { Chain = new ChainReference(new string('A', 64), 42) };

        var json = JsonSerializer.SerializeToNode(receipt, WireJson.Options)!.AsObject();

        Assert.Equal(SignedFieldNames.Append("signature").Append("chain").Order(StringComparer.Ordinal), json.Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(42, (long)json["chain"]!["block_height"]!);
    }
}
