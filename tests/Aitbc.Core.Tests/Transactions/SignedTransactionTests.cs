using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Core.Tests.Transactions;

public class SignedTransactionTests
{
    public static TheoryData<string> AllTypes => [.. TxType.All];

    private static string Text(byte[] wire) => Encoding.UTF8.GetString(wire);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static JsonObject Envelope(SignedTransaction tx) => JsonNode.Parse(tx.WireBytes)!.AsObject();

    /// <summary>Re-encodes an edited envelope canonically, so only the edit, not the encoding, is under test.</summary>
    private static byte[] CanonicalWire(JsonObject envelope) => CanonicalJson.Serialize(envelope);

    private static void AssertRejected(byte[] wire, string expectedErrorFragment)
    {
        var decoded = SignedTransaction.TryDecode(wire, out var tx, out var error);

        Assert.False(decoded);
        Assert.Null(tx);
        Assert.Contains(expectedErrorFragment, error, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Signed_transaction_of_every_type_decodes_to_the_same_transaction(string type)
    {
        var body = TxBuilder.Body(type);
        var signed = TxBuilder.Signed(body, nonce: 7);

        var decoded = SignedTransaction.TryDecode(signed.WireBytes, out var tx, out var error);

        Assert.True(decoded, error);
        Assert.Equal("", error);
        Assert.Equal(body, tx.Tx.Body);
        Assert.Equal(type, tx.Tx.Type);
        Assert.Equal(TxBuilder.ChainId, tx.Tx.ChainId);
        Assert.Equal(7UL, tx.Tx.Nonce);
        Assert.Equal(TestKeys.Alice.PublicKey, tx.Tx.PubKey);
        Assert.Equal(TestKeys.Alice.Address, tx.Sender);
        Assert.Equal(signed.WireBytes, tx.WireBytes);
        Assert.Equal(signed.Hash, tx.Hash);
        Assert.Equal(signed.Signature.ToArray(), tx.Signature.ToArray());
        Assert.True(tx.VerifySignature());
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Signed_transaction_verifies(string type)
    {
        var signed = TxBuilder.Signed(TxBuilder.Body(type));

        Assert.True(signed.VerifySignature());
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Wire_bytes_are_canonical_json_of_the_six_envelope_fields(string type)
    {
        var signed = TxBuilder.Signed(TxBuilder.Body(type));

        var envelope = Envelope(signed);

        Assert.True(CanonicalJson.IsCanonical(signed.WireBytes));
        Assert.Equal(["body", "chain_id", "nonce", "pub_key", "signature", "type"], envelope.Select(p => p.Key));
        Assert.Equal(type, (string?)envelope["type"]);
        Assert.Equal(TestKeys.Alice.PublicKey.Base64, (string?)envelope["pub_key"]);
    }

    [Fact]
    public void Transfer_body_carries_snake_case_fields_and_the_amount_as_a_uaitbc_string()
    {
        var signed = TxBuilder.Transfer();

        var body = Envelope(signed)["body"]!.AsObject();

        Assert.Equal($$"""{"amount":"250000","to":"{{TestKeys.Bob.Address.Value}}"}""", body.ToJsonString());
    }

    [Fact]
    public void Record_receipt_body_uses_snake_case_names()
    {
        var signed = TxBuilder.Signed(TxBuilder.Body(TxType.RecordReceipt));

        var body = Envelope(signed)["body"]!.AsObject();

        Assert.Equal(
            ["amount_paid", "compute_time", "job_id", "miner", "miner_signature", "model", "prompt_hash", "receipt_id", "result_hash", "tokens_generated"],
            body.Select(p => p.Key).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Signature_is_ed25519_over_the_canonical_envelope_without_signature()
    {
        var signed = TxBuilder.Transfer();
        var envelope = Envelope(signed);
        var signature = Convert.FromBase64String((string)envelope["signature"]!);
        envelope.Remove("signature");

        var signBytes = CanonicalJson.Serialize(envelope);

        Assert.True(TestKeys.Alice.PublicKey.Verify(signBytes, signature));
        Assert.Equal(signature, signed.Signature.ToArray());
    }

    [Fact]
    public void Hash_is_upper_hex_sha256_of_the_wire_bytes()
    {
        var signed = TxBuilder.Transfer();

        Assert.Equal(Convert.ToHexString(SHA256.HashData(signed.WireBytes)), signed.Hash);
    }

    [Fact]
    public void Different_nonces_give_different_hashes()
    {
        Assert.NotEqual(TxBuilder.Transfer(nonce: 1).Hash, TxBuilder.Transfer(nonce: 2).Hash);
    }

    [Fact]
    public void Sign_refuses_a_key_that_is_not_the_transactions_pub_key()
    {
        var unsigned = TxBuilder.Unsigned(TxBuilder.Body(TxType.Transfer), TestKeys.Alice);

        Assert.Throws<ArgumentException>(() => unsigned.Sign(TestKeys.Bob));
    }

    [Fact]
    public void Changed_amount_no_longer_verifies()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);
        var tampered = Bytes(text.Replace("\"amount\":\"250000\"", "\"amount\":\"250001\"", StringComparison.Ordinal));
        Assert.NotEqual(text, Text(tampered));

        var decoded = SignedTransaction.TryDecode(tampered, out var tx, out _);

        Assert.False(decoded && tx.VerifySignature());
    }

    [Theory]
    [InlineData("chain_id", "other-chain")]
    [InlineData("type", "approve")]
    public void Changed_envelope_string_no_longer_verifies(string field, string value)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope[field] = value;
        if (field == "type")
        {
            envelope["body"] = new JsonObject { ["amount"] = "250000", ["spender"] = TestKeys.Bob.Address.Value };
        }

        var decoded = SignedTransaction.TryDecode(CanonicalWire(envelope), out var tx, out _);

        Assert.False(decoded && tx.VerifySignature());
    }

    [Fact]
    public void Changed_nonce_no_longer_verifies()
    {
        var envelope = Envelope(TxBuilder.Transfer(nonce: 1));
        envelope["nonce"] = 2;

        var decoded = SignedTransaction.TryDecode(CanonicalWire(envelope), out var tx, out _);

        Assert.True(decoded);
        Assert.False(tx.VerifySignature());
    }

    [Fact]
    public void Pub_key_swapped_for_another_no_longer_verifies()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["pub_key"] = TestKeys.Bob.PublicKey.Base64;

        var decoded = SignedTransaction.TryDecode(CanonicalWire(envelope), out var tx, out _);

        Assert.True(decoded);
        Assert.False(tx.VerifySignature());
    }

    [Fact]
    public void Signature_from_another_transaction_does_not_verify()
    {
        var envelope = Envelope(TxBuilder.Transfer(nonce: 1));
        envelope["signature"] = Convert.ToBase64String(TxBuilder.Transfer(nonce: 2).Signature);

        var decoded = SignedTransaction.TryDecode(CanonicalWire(envelope), out var tx, out _);

        Assert.True(decoded);
        Assert.False(tx.VerifySignature());
    }

    [Fact]
    public void Every_single_byte_change_is_refused_or_breaks_the_signature()
    {
        // Nothing a relay can do to one byte may yield a second valid encoding (with another hash) of the same transaction.
        var wire = TxBuilder.Transfer().WireBytes;
        var text = Text(wire);
        var signatureEnd = text.IndexOf("\"signature\":\"", StringComparison.Ordinal) + 13 + 88;
        byte[] structural = [.. "A0/\" {\\"u8];
        byte[] base64 = [.. "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="u8];

        for (var i = 0; i < wire.Length; i++)
        {
            // The signature's tail gets every base64 character, which reaches the unused bits of its last one.
            var inSignatureTail = i >= signatureEnd - 4 && i < signatureEnd;
            foreach (var replacement in inSignatureTail ? base64 : structural)
            {
                if (wire[i] == replacement)
                {
                    continue;
                }
                var mutated = (byte[])wire.Clone();
                mutated[i] = replacement;

                var decoded = SignedTransaction.TryDecode(mutated, out var tx, out _);

                Assert.False(decoded && tx.VerifySignature(), $"byte {i} ('{(char)wire[i]}') -> '{(char)replacement}' still verifies");
            }
        }
    }

    [Fact]
    public void Signature_in_a_non_canonical_base64_spelling_is_rejected()
    {
        // 64 bytes leave 4 unused bits in the last base64 character; setting them must not give a second valid encoding.
        var signed = TxBuilder.Transfer();
        var envelope = Envelope(signed);
        var signature = (string)envelope["signature"]!;
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var last = alphabet.IndexOf(signature[^3], StringComparison.Ordinal);
        envelope["signature"] = signature[..^3] + alphabet[last | 0x01] + "==";
        Assert.NotEqual(signature, (string)envelope["signature"]!);

        AssertRejected(CanonicalWire(envelope), "signature");
    }

    [Fact]
    public void Extra_whitespace_is_rejected_as_non_canonical()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);

        AssertRejected(Bytes("{ " + text[1..]), "canonical");
        AssertRejected(Bytes(text.Replace("\":", "\": ", StringComparison.Ordinal)), "canonical");
        AssertRejected(Bytes(text + "\n"), "canonical");
    }

    [Fact]
    public void Reordered_keys_are_rejected_as_non_canonical()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        var reordered = new JsonObject();
        foreach (var name in new[] { "type", "signature", "pub_key", "nonce", "chain_id", "body" })
        {
            reordered[name] = envelope[name]!.DeepClone();
        }

        AssertRejected(Bytes(reordered.ToJsonString()), "canonical");
    }

    [Fact]
    public void Escaped_character_that_needs_no_escape_is_rejected_as_non_canonical()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);

        AssertRejected(Bytes(text.Replace("\"type\":\"transfer\"", "\"type\":\"\\u0074ransfer\"", StringComparison.Ordinal)), "canonical");
    }

    [Fact]
    public void Nonce_written_as_a_decimal_is_rejected()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);

        Assert.False(SignedTransaction.TryDecode(Bytes(text.Replace("\"nonce\":1", "\"nonce\":1.0", StringComparison.Ordinal)), out _, out _));
        Assert.False(SignedTransaction.TryDecode(Bytes(text.Replace("\"nonce\":1", "\"nonce\":1e0", StringComparison.Ordinal)), out _, out _));
    }

    [Fact]
    public void Unknown_envelope_field_is_rejected()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["memo"] = "hi";

        AssertRejected(CanonicalWire(envelope), "unknown field 'memo'");
    }

    [Theory]
    [InlineData("chain_id")]
    [InlineData("type")]
    [InlineData("pub_key")]
    [InlineData("nonce")]
    [InlineData("body")]
    [InlineData("signature")]
    public void Missing_envelope_field_is_rejected(string field)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope.Remove(field);

        AssertRejected(CanonicalWire(envelope), field);
    }

    [Theory]
    [InlineData("chain_id")]
    [InlineData("type")]
    [InlineData("pub_key")]
    [InlineData("signature")]
    public void Envelope_string_field_of_another_json_type_is_rejected(string field)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope[field] = 5;

        AssertRejected(CanonicalWire(envelope), $"{field} must be a string");
    }

    [Theory]
    [InlineData(TxType.Transfer, "to")]
    [InlineData(TxType.Approve, "spender")]
    [InlineData(TxType.RegisterMiner, "stake")]
    [InlineData(TxType.Unstake, "amount")]
    [InlineData(TxType.SubmitJob, "payload_hash")]
    [InlineData(TxType.RecordReceipt, "miner_signature")]
    [InlineData(TxType.RecordReceipt, "tokens_generated")]
    [InlineData(TxType.RefundJob, "reason")]
    public void Missing_body_field_is_rejected(string type, string field)
    {
        var envelope = Envelope(TxBuilder.Signed(TxBuilder.Body(type)));
        Assert.True(envelope["body"]!.AsObject().Remove(field));

        AssertRejected(CanonicalWire(envelope), $"invalid {type} body");
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Unknown_body_field_is_rejected(string type)
    {
        var envelope = Envelope(TxBuilder.Signed(TxBuilder.Body(type)));
        envelope["body"]!["extra"] = "x";

        AssertRejected(CanonicalWire(envelope), $"invalid {type} body");
    }

    [Fact]
    public void Body_field_names_are_case_sensitive()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        var body = envelope["body"]!.AsObject();
        body["To"] = body["to"]!.DeepClone();
        body.Remove("to");

        AssertRejected(CanonicalWire(envelope), "invalid transfer body");
    }

    [Theory]
    [InlineData("amount", "null")]
    [InlineData("amount", "250000")]
    [InlineData("amount", "\"0.25\"")]
    [InlineData("amount", "\"-1\"")]
    [InlineData("to", "null")]
    [InlineData("to", "\"aitbc1notanaddress\"")]
    [InlineData("to", "\"cosmos1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqkzmgpn\"")]
    public void Body_field_with_an_invalid_value_is_rejected(string field, string valueJson)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["body"]![field] = JsonNode.Parse(valueJson);

        AssertRejected(CanonicalWire(envelope), "invalid transfer body");
    }

    [Fact]
    public void Body_that_is_not_an_object_is_rejected()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["body"] = new JsonArray();

        AssertRejected(CanonicalWire(envelope), "body must be an object");
    }

    [Fact]
    public void Body_of_another_type_is_rejected()
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["type"] = TxType.Unstake;

        AssertRejected(CanonicalWire(envelope), "invalid unstake body");
    }

    [Fact]
    public void Nonce_zero_is_rejected()
    {
        var wire = TxBuilder.Transfer(nonce: 0).WireBytes;

        AssertRejected(wire, "nonce");
    }

    [Fact]
    public void Nonce_two_to_the_53_is_rejected()
    {
        var wire = TxBuilder.Transfer(nonce: 1UL << 53).WireBytes;

        AssertRejected(wire, "nonce");
    }

    [Fact]
    public void Nonce_two_to_the_53_minus_one_is_accepted()
    {
        var wire = TxBuilder.Transfer(nonce: SignedTransaction.MaxNonce).WireBytes;

        Assert.True(SignedTransaction.TryDecode(wire, out var tx, out var error), error);
        Assert.Equal((1UL << 53) - 1, tx.Tx.Nonce);
        Assert.True(tx.VerifySignature());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"1\"")]
    [InlineData("null")]
    [InlineData("18446744073709551616")]
    public void Nonce_that_is_not_a_positive_integer_is_rejected(string nonceJson)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["nonce"] = JsonNode.Parse(nonceJson);

        AssertRejected(CanonicalWire(envelope), "nonce");
    }

    [Theory]
    [InlineData("transfers")]
    [InlineData("Transfer")]
    [InlineData("")]
    [InlineData("mint")]
    public void Unknown_type_name_is_rejected(string type)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["type"] = type;

        AssertRejected(CanonicalWire(envelope), "unknown transaction type");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")] // 31 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 36 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=")] // non-canonical padding bits
    public void Bad_pub_key_is_rejected(string pubKey)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["pub_key"] = pubKey;

        AssertRejected(CanonicalWire(envelope), "pub_key");
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 63 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")] // 66 bytes
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA AA==")] // whitespace
    [InlineData("!AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    public void Bad_signature_encoding_is_rejected(string signature)
    {
        var envelope = Envelope(TxBuilder.Transfer());
        envelope["signature"] = signature;

        AssertRejected(CanonicalWire(envelope), "signature");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Chain_id_outside_1_to_64_characters_is_rejected(int length)
    {
        var wire = TxBuilder.Signed(TxBuilder.Body(TxType.Transfer), chainId: new string('c', length)).WireBytes;

        AssertRejected(wire, "chain_id");
    }

    [Fact]
    public void Chain_id_of_64_characters_is_accepted()
    {
        var wire = TxBuilder.Signed(TxBuilder.Body(TxType.Transfer), chainId: new string('c', 64)).WireBytes;

        Assert.True(SignedTransaction.TryDecode(wire, out _, out var error), error);
    }

    [Fact]
    public void Transaction_over_16_KiB_is_rejected()
    {
        var wire = TxBuilder.Signed(new RefundJobBody("job-1", new string('r', 17_000))).WireBytes;
        Assert.True(wire.Length > SignedTransaction.MaxWireBytes);

        AssertRejected(wire, "limit");
    }

    [Fact]
    public void Transaction_of_exactly_16_KiB_is_accepted()
    {
        var overhead = TxBuilder.Signed(new RefundJobBody("job-1", "")).WireBytes.Length;
        var wire = TxBuilder.Signed(new RefundJobBody("job-1", new string('r', SignedTransaction.MaxWireBytes - overhead))).WireBytes;
        Assert.Equal(SignedTransaction.MaxWireBytes, wire.Length);

        Assert.True(SignedTransaction.TryDecode(wire, out _, out var error), error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("\"transfer\"")]
    [InlineData("42")]
    [InlineData("{}")]
    [InlineData("{")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public void Input_that_is_not_a_transaction_object_is_rejected(string text)
    {
        Assert.False(SignedTransaction.TryDecode(Bytes(text), out var tx, out var error));
        Assert.Null(tx);
        Assert.NotEqual("", error);
    }

    [Theory]
    [InlineData("chain_id")]
    [InlineData("type")]
    [InlineData("pub_key")]
    [InlineData("signature")]
    public void Envelope_string_with_a_lone_surrogate_is_rejected_without_throwing(string field)
    {
        var text = Text(TxBuilder.Transfer().WireBytes);
        var start = text.IndexOf($"\"{field}\":\"", StringComparison.Ordinal) + field.Length + 4;
        var wire = Bytes(text[..start] + "\\ud800" + text[start..]);

        Assert.False(SignedTransaction.TryDecode(wire, out _, out var error));
        Assert.NotEqual("", error);
    }

    [Fact]
    public void Member_name_with_a_lone_surrogate_is_rejected_without_throwing()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);
        var wire = Bytes("{\"\\ud800\":1," + text[1..]);

        Assert.False(SignedTransaction.TryDecode(wire, out _, out var error));
        Assert.NotEqual("", error);
    }

    [Fact]
    public void Body_string_with_a_lone_surrogate_is_rejected_without_throwing()
    {
        var text = Text(TxBuilder.Signed(new RefundJobBody("job-1", "x")).WireBytes);
        var wire = Bytes(text.Replace("\"reason\":\"x\"", "\"reason\":\"x\\udc00\"", StringComparison.Ordinal));

        Assert.False(SignedTransaction.TryDecode(wire, out _, out var error));
        Assert.NotEqual("", error);
    }

    [Fact]
    public void Duplicate_envelope_field_is_rejected()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);
        var wire = Bytes(text.Replace("\"nonce\":1,", "\"nonce\":1,\"nonce\":1,", StringComparison.Ordinal));

        Assert.False(SignedTransaction.TryDecode(wire, out _, out _));
    }

    [Fact]
    public void Duplicate_body_field_is_rejected()
    {
        var text = Text(TxBuilder.Transfer().WireBytes);
        var wire = Bytes(text.Replace("\"amount\":\"250000\",", "\"amount\":\"250000\",\"amount\":\"250000\",", StringComparison.Ordinal));

        Assert.False(SignedTransaction.TryDecode(wire, out _, out _));
    }

    [Fact]
    public void Random_garbage_never_throws()
    {
        var random = new Random(20240601);
        var valid = TxBuilder.Transfer().WireBytes;
        for (var i = 0; i < 3_000; i++)
        {
            var length = random.Next(0, 400);
            var garbage = new byte[length];
            random.NextBytes(garbage);

            var decoded = SignedTransaction.TryDecode(garbage, out _, out var error);

            Assert.False(decoded);
            Assert.NotEqual("", error);
        }
        for (var i = 0; i < 3_000; i++)
        {
            var mutated = (byte[])valid.Clone();
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            }

            var decoded = SignedTransaction.TryDecode(mutated, out var tx, out _);

            Assert.False(decoded && tx.VerifySignature() && !mutated.AsSpan().SequenceEqual(valid));
        }
    }
}
