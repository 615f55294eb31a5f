using System.Text;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;

namespace Aitbc.Core.Tests.Proofs;

public class MinerProofTests
{
    private static MinerProof Proof() => new(
        JobId: "job-1",
        Model: "llama3.2:1b",
        PromptHash: Hashing.ContentHash("prompt"),
        ResultHash: Hashing.ContentHash("result"),
        ComputeTime: 1.5,
        TokensGenerated: 42);

    public static TheoryData<string> SignedFields => ["job_id", "model", "prompt_hash", "result_hash", "compute_time", "tokens_generated"];

    private static MinerProof Tamper(MinerProof proof, string field) => field switch
    {
        "job_id" => proof with { JobId = "job-2" },
        "model" => proof with { Model = "llama3.2:3b" },
        "prompt_hash" => proof with { PromptHash = Hashing.ContentHash("other prompt") },
        "result_hash" => proof with { ResultHash = Hashing.ContentHash("other result") },
        "compute_time" => proof with { ComputeTime = 1.25 },
        "tokens_generated" => proof with { TokensGenerated = 43 },
        _ => throw new ArgumentOutOfRangeException(nameof(field), field, null),
    };

    [Fact]
    public void Canonical_bytes_are_jcs_of_the_six_proof_fields()
    {
        var proof = Proof();

        var text = Encoding.UTF8.GetString(proof.CanonicalBytes());

        Assert.Equal(
            $$"""{"compute_time":1.5,"job_id":"job-1","model":"llama3.2:1b","prompt_hash":"{{proof.PromptHash}}","result_hash":"{{proof.ResultHash}}","tokens_generated":42}""",
            text);
    }

    [Fact]
    public void Signature_by_the_miner_verifies()
    {
        var proof = Proof();

        var signature = proof.Sign(TestKeys.Miner);

        Assert.True(proof.Verify(TestKeys.Miner.PublicKey, signature));
        Assert.True(TestKeys.Miner.PublicKey.Verify(proof.CanonicalBytes(), Convert.FromBase64String(signature)));
    }

    [Theory]
    [MemberData(nameof(SignedFields))]
    public void Changing_a_signed_field_breaks_the_signature(string field)
    {
        var signature = Proof().Sign(TestKeys.Miner);

        var tampered = Tamper(Proof(), field);

        Assert.False(tampered.Verify(TestKeys.Miner.PublicKey, signature));
    }

    [Fact]
    public void Signature_by_another_key_does_not_verify()
    {
        var signature = Proof().Sign(TestKeys.Alice);

        Assert.False(Proof().Verify(TestKeys.Miner.PublicKey, signature));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64")]
    [InlineData("AAAA")]
    public void Malformed_signature_does_not_verify(string? signature)
    {
        Assert.False(Proof().Verify(TestKeys.Miner.PublicKey, signature));
    }

    [Fact]
    public void Signature_in_a_non_canonical_base64_spelling_does_not_verify()
    {
        var signature = Proof().Sign(TestKeys.Miner);
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        var respelled = signature[..^3] + alphabet[alphabet.IndexOf(signature[^3], StringComparison.Ordinal) | 0x01] + "==";
        Assert.NotEqual(signature, respelled);
        Assert.Equal(Convert.FromBase64String(signature), Convert.FromBase64String(respelled));

        Assert.False(Proof().Verify(TestKeys.Miner.PublicKey, respelled));
    }
}
