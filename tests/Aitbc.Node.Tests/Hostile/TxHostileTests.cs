using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core;
using Aitbc.Core.Json;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// Hostile transactions, each sent through check_tx, broadcast_tx_sync, broadcast_tx_async and broadcast_tx_commit:
/// garbage, forged signatures and keys, replays, other chains, nonce gaps, amounts at and past 2^64 in every
/// transaction type (transfer, approve, stake, unstake, escrow open/pay/refund), oversize, unknown types, unicode.
/// Every one is refused with the ABCI code of the rule it breaks, and nothing changes. Most are signed properly by
/// a funded key with its next nonce, so the rule under test is the only reason to refuse them.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class TxHostileTests(RpcNodeFixture fixture, ITestOutputHelper output)
{
    /// <summary>An escrow left open for these tests (client: Spare(7)), so receipt and refund rules can be reached.</summary>
    public const string OpenJobId = "job-hostile-open";
    public const ulong OpenJobMax = 2_000_000;
    private const ulong OpenJobAllowance = 5_000_000;
    private static readonly SemaphoreSlim SetupGate = new(1, 1);
    private static bool _setupDone;

    private Wallet Sender => fixture.Spare(5);

    private Wallet Other => fixture.Spare(6);

    private Wallet EscrowClient => fixture.Spare(7);

    private Wallet Coordinator => fixture.Net.Coordinator;

    private string ChainId => fixture.Net.ChainId;

    [Fact]
    public async Task Garbage_and_non_canonical_encodings_are_malformed()
    {
        var probe = await StartAsync("tx/garbage");
        var valid = await ValidTransferAsync(Sender, 1);
        var text = Encoding.UTF8.GetString(valid);
        byte[][] garbage =
        [
            [0], [0xFF, 0xFE], "null"u8.ToArray(), "[]"u8.ToArray(), "{}"u8.ToArray(), "1"u8.ToArray(), "\"x\""u8.ToArray(), "true"u8.ToArray(),
            [.. valid, (byte)' '], [(byte)' ', .. valid], [0xEF, 0xBB, 0xBF, .. valid], [.. valid, 0], valid[..^1], valid[1..], [.. valid, .. valid],
            Encoding.UTF8.GetBytes(JsonNode.Parse(text)!.ToJsonString(new JsonSerializerOptions { WriteIndented = true })),
            Encoding.UTF8.GetBytes(text.Replace("{\"body\":", "{ \"body\":", StringComparison.Ordinal)),
            Encoding.UTF8.GetBytes(text.Replace("\"chain_id\"", "\"chain\\u005fid\"", StringComparison.Ordinal)),
            Encoding.UTF8.GetBytes(text.Replace("{\"body\":", "{\"type\":\"transfer\",\"body\":", StringComparison.Ordinal)),
            Encoding.UTF8.GetBytes(text.Replace("{\"body\":", "{\"x\":1,\"body\":", StringComparison.Ordinal)),
            Encoding.UTF8.GetBytes(ReorderedKeys(text)),
            Encoding.UTF8.GetBytes(new string('{', 100)), Encoding.UTF8.GetBytes(new string('[', 100_000)),
            Encoding.UTF8.GetBytes("{\"body\":" + new string('[', 10) + new string(']', 10) + "}"),
            [.. "{\"body\":{\"amount\":\""u8, 0xC3, 0x28, .. "\"}}"u8],
            Encoding.UTF8.GetBytes(text.Replace("\"amount\":\"1\"", "\"amount\":\"\\ud800\"", StringComparison.Ordinal)),
            new byte[SignedTransaction.MaxWireBytes + 1], Encoding.UTF8.GetBytes(new string(' ', 1024 * 1024)),
        ];
        foreach (var wire in garbage)
        {
            await ExpectRefusedAsync(probe, $"garbage {HostileProbe.Clip(Convert.ToHexString(wire[..Math.Min(wire.Length, 16)]))} ({wire.Length} bytes)", wire, TxCode.Malformed);
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Forged_signatures_wrong_keys_replays_and_other_chains_are_refused()
    {
        var probe = await StartAsync("tx/auth");
        var nonce = await NextNonceAsync(Sender);
        var transfer = TransferBody(Other.Address.Value, "1");
        var unsigned = Unsigned(Sender, "transfer", transfer, nonce);

        // Signatures: of other bytes, by another key, all zero, of the wrong length or spelling.
        await ExpectRefusedAsync(probe, "signature over other bytes", WithSignature(unsigned, Sender.Key.Sign("something else"u8)), TxCode.BadSignature);
        await ExpectRefusedAsync(probe, "signature by another key", WithSignature(unsigned, Other.Key.Sign(CanonicalJson.Serialize(unsigned))), TxCode.BadSignature);
        await ExpectRefusedAsync(probe, "signature all zero", WithSignature(unsigned, new byte[64]), TxCode.BadSignature);
        await ExpectRefusedAsync(probe, "signature all ones", WithSignature(unsigned, Enumerable.Repeat((byte)0xFF, 64).ToArray()), TxCode.BadSignature);
        var good = Sender.Key.Sign(CanonicalJson.Serialize(unsigned));
        var flipped = (byte[])good.Clone();
        flipped[10] ^= 1;
        await ExpectRefusedAsync(probe, "signature with one bit flipped", WithSignature(unsigned, flipped), TxCode.BadSignature);
        var highS = (byte[])good.Clone();
        highS[63] |= 0xF0;
        await ExpectRefusedAsync(probe, "signature with a non-canonical S", WithSignature(unsigned, highS), TxCode.BadSignature);
        foreach (var (label, signature) in new (string, JsonNode?)[]
        {
            ("63 bytes", Convert.ToBase64String(good[..63])), ("65 bytes", Convert.ToBase64String([.. good, 0])), ("empty", ""), ("not base64", new string('!', 88)),
            ("non-canonical base64", Convert.ToBase64String(good)[..^3] + "B=="), ("a number", 5), ("null", null), ("hex", Convert.ToHexString(good)),
            ("base64url", "-" + Convert.ToBase64String(good)[1..]), ("with a newline", Convert.ToBase64String(good)[..40] + "\n" + Convert.ToBase64String(good)[40..]),
        })
        {
            var bad = (JsonObject)unsigned.DeepClone();
            bad["signature"] = signature;
            await ExpectRefusedAsync(probe, $"signature {label}", CanonicalJson.Serialize(bad), TxCode.Malformed);
        }
        var noSignature = CanonicalJson.Serialize(unsigned);
        await ExpectRefusedAsync(probe, "no signature", noSignature, TxCode.Malformed);

        // Public keys: another funded key (signed by the sender), small-order points, wrong lengths.
        await ExpectRefusedAsync(probe, "pub_key of another account, signed by the sender", Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce, pubKey: Other.Key.PublicKey.Base64)), TxCode.BadSignature);
        foreach (var key in new[] { new byte[32], [1, .. new byte[31]], Enumerable.Repeat((byte)0xFF, 32).ToArray(), [.. new byte[31], 0x80] })
        {
            await ExpectRefusedAsync(probe, $"pub_key {Convert.ToHexString(key)[..8]}…", Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce, pubKey: Convert.ToBase64String(key))), TxCode.BadSignature);
        }
        foreach (var key in new[] { Convert.ToBase64String(new byte[31]), Convert.ToBase64String(new byte[33]), "", "!!!", Sender.Key.PublicKey.Base64[..^2] + "B=" })
        {
            await ExpectRefusedAsync(probe, $"pub_key '{key}'", Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce, pubKey: key)), TxCode.Malformed);
        }

        // Replays: the fixture's first transfer, committed long ago; a nonce already used.
        await ExpectRefusedAsync(probe, "replay of a committed transfer", fixture.SeedTx.WireBytes, TxCode.BadNonce);
        var minerNonce = await NextNonceAsync(fixture.Miner);
        await ExpectRefusedAsync(probe, "a used nonce", Sign(fixture.Miner, Unsigned(fixture.Miner, "transfer", transfer, minerNonce - 1)), TxCode.BadNonce);

        // Other chains: a valid signature over another chain_id.
        foreach (var chain in new[] { "aitbc-other", ChainId + " ", ChainId.ToUpperInvariant(), ChainId + "\u0000", "\u202e" + ChainId, ChainId + "😀", new string('c', 64) })
        {
            await ExpectRefusedAsync(probe, $"chain_id {JsonSerializer.Serialize(chain)}", Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce, chainId: chain)), TxCode.WrongChainId);
        }
        foreach (var chain in new[] { "", new string('c', 65) })
        {
            await ExpectRefusedAsync(probe, $"chain_id of {chain.Length} characters", Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce, chainId: chain)), TxCode.Malformed);
        }
        var numericChain = Unsigned(Sender, "transfer", transfer, nonce);
        numericChain["chain_id"] = 7;
        await ExpectRefusedAsync(probe, "chain_id a number", Sign(Sender, numericChain), TxCode.Malformed);

        // Nonces: gaps, the edges of the 2^53 range, other types.
        foreach (var gap in new[] { nonce + 1, nonce + 1000, SignedTransaction.MaxNonce })
        {
            await ExpectRefusedAsync(probe, $"nonce {gap} (expected {nonce})", Sign(Sender, Unsigned(Sender, "transfer", transfer, gap)), TxCode.BadNonce);
        }
        foreach (var bad in new JsonNode?[] { 0, -1, 1.5, "1", SignedTransaction.MaxNonce + 1, ulong.MaxValue, null, new JsonArray(1) })
        {
            var tx = Unsigned(Sender, "transfer", transfer, nonce);
            tx["nonce"] = bad;
            await ExpectRefusedAsync(probe, $"nonce {bad?.ToJsonString() ?? "null"}", Sign(Sender, tx), TxCode.Malformed);
        }
        var wire = Encoding.UTF8.GetString(Sign(Sender, Unsigned(Sender, "transfer", transfer, nonce)));
        foreach (var spelling in new[] { "1e400", "18446744073709551616", "-0", "1e0", "01" })
        {
            await ExpectRefusedAsync(probe, $"nonce spelled {spelling}", Encoding.UTF8.GetBytes(wire.Replace($"\"nonce\":{nonce}", $"\"nonce\":{spelling}", StringComparison.Ordinal)), TxCode.Malformed);
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Amounts_at_and_past_the_64_bit_edge_in_every_transaction_type()
    {
        var probe = await StartAsync("tx/amounts");
        var sender = await fixture.Rpc.AccountAsync(Sender.Address.Value);
        var nonce = sender.Nonce + 1;
        var to = Other.Address.Value;
        string[] unparsable = ["-1", "18446744073709551616", "99999999999999999999999", "1e3", "01", "+1", " 1", "1 ", "1.0", "", "٣", "0x10", "1\u0000", "-0"];
        JsonNode?[] wrongTypes = [5, 1.5, null, true, new JsonArray("1"), new JsonObject { ["micro"] = "1" }];

        foreach (var amount in unparsable)
        {
            await RefuseAsync(Sender, "transfer", TransferBody(to, amount), nonce, TxCode.Malformed, $"transfer amount {JsonSerializer.Serialize(amount)}");
            await RefuseAsync(Sender, "approve", new JsonObject { ["spender"] = to, ["amount"] = amount }, nonce, TxCode.Malformed, $"approve amount {JsonSerializer.Serialize(amount)}");
            await RefuseAsync(Sender, "register_miner", new JsonObject { ["stake"] = amount }, nonce, TxCode.Malformed, $"stake {JsonSerializer.Serialize(amount)}");
            await RefuseAsync(Sender, "unstake", new JsonObject { ["amount"] = amount }, nonce, TxCode.Malformed, $"unstake {JsonSerializer.Serialize(amount)}");
        }
        foreach (var amount in wrongTypes)
        {
            var label = amount?.ToJsonString() ?? "null";
            await RefuseAsync(Sender, "transfer", new JsonObject { ["to"] = to, ["amount"] = amount?.DeepClone() }, nonce, TxCode.Malformed, $"transfer amount {label}");
            await RefuseAsync(Sender, "register_miner", new JsonObject { ["stake"] = amount?.DeepClone() }, nonce, TxCode.Malformed, $"stake {label}");
        }
        var max = ulong.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var overBalance = (sender.Balance + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var amount in new[] { max, overBalance, (ulong.MaxValue - sender.Balance + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            await RefuseAsync(Sender, "transfer", TransferBody(to, amount), nonce, TxCode.InsufficientFunds, $"transfer {amount}");
            await RefuseAsync(Sender, "transfer", TransferBody(Sender.Address.Value, amount), nonce, TxCode.InsufficientFunds, $"transfer {amount} to self");
            await RefuseAsync(Sender, "register_miner", new JsonObject { ["stake"] = amount }, nonce, TxCode.InsufficientFunds, $"stake {amount}");
        }
        await RefuseAsync(Sender, "transfer", TransferBody(to, "0"), nonce, TxCode.InvalidField, "transfer 0");
        await RefuseAsync(Sender, "register_miner", new JsonObject { ["stake"] = "0" }, nonce, TxCode.InvalidField, "stake 0");
        await RefuseAsync(Sender, "approve", new JsonObject { ["spender"] = Sender.Address.Value, ["amount"] = max }, nonce, TxCode.InvalidField, "approve self for 2^64-1");
        await RefuseAsync(Sender, "unstake", new JsonObject { ["amount"] = "1" }, nonce, TxCode.UnknownMiner, "unstake by a non-miner");

        // The miner's stake: releasing more than it holds, or 2^64-1 (which a balance + amount sum would overflow).
        var miner = fixture.Miner;
        var minerNonce = await NextNonceAsync(miner);
        foreach (var amount in new[] { max, (RpcNodeFixture.MinerStake + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            await RefuseAsync(miner, "unstake", new JsonObject { ["amount"] = amount }, minerNonce, TxCode.InsufficientFunds, $"unstake {amount}");
        }
        await RefuseAsync(miner, "unstake", new JsonObject { ["amount"] = "0" }, minerNonce, TxCode.InvalidField, "unstake 0");
        await RefuseAsync(miner, "register_miner", new JsonObject { ["stake"] = max }, minerNonce, TxCode.InsufficientFunds, "stake 2^64-1 on top of a stake");

        // Escrow: opening beyond the allowance or by a non-coordinator; paying more than the escrow; refunds and receipts
        // of closed, unknown or someone else's jobs.
        var coordinatorNonce = await NextNonceAsync(Coordinator);
        var client = EscrowClient.Address.Value;
        var payload = RpcNodeFixture.ContentHash("hostile prompt");
        foreach (var amount in new[] { max, (OpenJobAllowance - OpenJobMax + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            await RefuseAsync(Coordinator, "submit_job", Job("job-hostile-x", client, payload, amount), coordinatorNonce, TxCode.InsufficientAllowance, $"submit_job max {amount}");
        }
        await RefuseAsync(Coordinator, "submit_job", Job("job-hostile-x", client, payload, "0"), coordinatorNonce, TxCode.InvalidField, "submit_job max 0");
        await RefuseAsync(Coordinator, "submit_job", Job("job-hostile-x", client, payload, "-1"), coordinatorNonce, TxCode.Malformed, "submit_job max -1");
        await RefuseAsync(Coordinator, "submit_job", Job(RpcNodeFixture.JobId, client, payload, "1"), coordinatorNonce, TxCode.AlreadyExists, "submit_job reusing a job id");
        await RefuseAsync(Coordinator, "submit_job", Job(OpenJobId, client, payload, "1"), coordinatorNonce, TxCode.AlreadyExists, "submit_job reusing an open job id");
        await RefuseAsync(Sender, "submit_job", Job("job-hostile-x", Sender.Address.Value, payload, "1"), nonce, TxCode.Unauthorized, "submit_job by a non-coordinator");
        foreach (var id in new[] { "", "é", "job id", "job\u0000", "job/1", new string('j', 129), "😀", "\u202ejob" })
        {
            await RefuseAsync(Coordinator, "submit_job", Job(id, client, payload, "1"), coordinatorNonce, TxCode.InvalidField, $"submit_job id {JsonSerializer.Serialize(id)}");
        }
        foreach (var hash in new[] { payload.ToUpperInvariant(), payload[..63], payload + "0", "", new string('g', 64) })
        {
            await RefuseAsync(Coordinator, "submit_job", Job("job-hostile-x", client, hash, "1"), coordinatorNonce, TxCode.InvalidField, $"submit_job payload_hash '{hash}'");
        }

        var paid = (OpenJobMax + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, max), coordinatorNonce, TxCode.InvalidField, "receipt paying 2^64-1");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, paid), coordinatorNonce, TxCode.InvalidField, "receipt paying escrow + 1");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", signature: Convert.ToBase64String(new byte[64])), coordinatorNonce, TxCode.BadProof, "receipt with a forged miner signature");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", signature: "not a signature"), coordinatorNonce, TxCode.BadProof, "receipt with a garbage miner signature");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", signer: Other), coordinatorNonce, TxCode.BadProof, "receipt signed by another key than the miner's");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, Sender, "1"), coordinatorNonce, TxCode.UnknownMiner, "receipt paying a non-miner");
        await RefuseAsync(Coordinator, "record_receipt", Receipt(RpcNodeFixture.ReceiptId, OpenJobId, fixture.Miner, "1"), coordinatorNonce, TxCode.AlreadyExists, "receipt reusing a receipt id");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", RpcNodeFixture.JobId, fixture.Miner, "1"), coordinatorNonce, TxCode.EscrowClosed, "receipt for a paid job");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", "job-nobody", fixture.Miner, "1"), coordinatorNonce, TxCode.UnknownJob, "receipt for an unknown job");
        await RefuseAsync(Sender, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1"), nonce, TxCode.Unauthorized, "receipt by a non-coordinator");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", computeTime: -1), coordinatorNonce, TxCode.InvalidField, "receipt with compute_time -1");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", tokens: -1), coordinatorNonce, TxCode.InvalidField, "receipt with tokens_generated -1");
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", model: ""), coordinatorNonce, TxCode.InvalidField, "receipt with an empty model");
        var receiptWire = Encoding.UTF8.GetString(Sign(Coordinator, Unsigned(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1"), coordinatorNonce)));
        foreach (var spelling in new[] { "1e400", "-1e400" })
        {
            await ExpectRefusedAsync(probe, $"receipt with compute_time {spelling}", Encoding.UTF8.GetBytes(receiptWire.Replace("\"compute_time\":1.5", $"\"compute_time\":{spelling}", StringComparison.Ordinal)), TxCode.Malformed);
        }
        await RefuseAsync(Coordinator, "record_receipt", Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1", tokens: 9.5), coordinatorNonce, TxCode.Malformed, "receipt with tokens_generated 9.5");

        await RefuseAsync(Coordinator, "refund_job", Refund(RpcNodeFixture.JobId, "again"), coordinatorNonce, TxCode.EscrowClosed, "refund of a paid job");
        await RefuseAsync(Coordinator, "refund_job", Refund("job-nobody", "none"), coordinatorNonce, TxCode.UnknownJob, "refund of an unknown job");
        await RefuseAsync(Sender, "refund_job", Refund(OpenJobId, "mine now"), nonce, TxCode.Unauthorized, "refund by a non-coordinator");
        await RefuseAsync(EscrowClient, "refund_job", Refund(OpenJobId, "client wants it back"), await NextNonceAsync(EscrowClient), TxCode.Unauthorized, "refund by the client");
        await RefuseAsync(Coordinator, "refund_job", Refund(OpenJobId, new string('r', 513)), coordinatorNonce, TxCode.InvalidField, "refund with a 513-character reason");
        probe.AssertAll();

        async Task RefuseAsync(Wallet signer, string type, JsonObject body, ulong withNonce, TxCode code, string name) =>
            await ExpectRefusedAsync(probe, name, Sign(signer, Unsigned(signer, type, body, withNonce)), code);
    }

    [Fact]
    public async Task Bodies_types_sizes_and_unicode_are_refused()
    {
        var probe = await StartAsync("tx/bodies");
        var nonce = await NextNonceAsync(Sender);
        var coordinatorNonce = await NextNonceAsync(Coordinator);
        var to = Other.Address.Value;
        foreach (var type in new[] { "mint", "Transfer", "TRANSFER", "transfer ", "", "transfer\u0000", "trаnsfer", "burn", "unknown" })
        {
            await ExpectRefusedAsync(probe, $"type {JsonSerializer.Serialize(type)}", Sign(Sender, Unsigned(Sender, type, TransferBody(to, "1"), nonce)), TxCode.Malformed);
        }
        var numericType = Unsigned(Sender, "transfer", TransferBody(to, "1"), nonce);
        numericType["type"] = 1;
        await ExpectRefusedAsync(probe, "type a number", Sign(Sender, numericType), TxCode.Malformed);

        // Bodies that do not fit their type: missing, extra, null or mistyped members; bodies that are not objects.
        JsonNode?[] bodies =
        [
            new JsonObject { ["amount"] = "1" }, new JsonObject { ["to"] = to }, new JsonObject(), new JsonObject { ["to"] = to, ["amount"] = "1", ["memo"] = "x" },
            new JsonObject { ["to"] = null, ["amount"] = "1" }, new JsonObject { ["to"] = 5, ["amount"] = "1" }, new JsonObject { ["TO"] = to, ["amount"] = "1" },
            new JsonObject { ["to"] = to.ToUpperInvariant()[..10] + to[10..], ["amount"] = "1" }, new JsonObject { ["to"] = "ａitbc1" + to[6..], ["amount"] = "1" },
            new JsonObject { ["to"] = to + "\u0000", ["amount"] = "1" }, new JsonObject { ["to"] = "", ["amount"] = "1" }, new JsonObject { ["to"] = to[..^1], ["amount"] = "1" },
            new JsonObject { ["to"] = new JsonArray(to), ["amount"] = "1" }, new JsonArray(), null, "transfer", 1,
        ];
        foreach (var body in bodies)
        {
            var tx = Unsigned(Sender, "transfer", TransferBody(to, "1"), nonce);
            tx["body"] = body?.DeepClone();
            await ExpectRefusedAsync(probe, $"transfer body {body?.ToJsonString() ?? "null"}", Sign(Sender, tx), TxCode.Malformed);
        }
        var noBody = Unsigned(Sender, "transfer", TransferBody(to, "1"), nonce);
        noBody.Remove("body");
        await ExpectRefusedAsync(probe, "no body", Sign(Sender, noBody), TxCode.Malformed);
        var extraField = Unsigned(Sender, "transfer", TransferBody(to, "1"), nonce);
        extraField["fee"] = "0";
        await ExpectRefusedAsync(probe, "an envelope member the protocol lacks (fee)", Sign(Sender, extraField), TxCode.Malformed);
        var receiptMissingProof = Receipt("receipt-hostile-x", OpenJobId, fixture.Miner, "1");
        receiptMissingProof.Remove("model");
        await ExpectRefusedAsync(probe, "receipt without model", Sign(Coordinator, Unsigned(Coordinator, "record_receipt", receiptMissingProof, coordinatorNonce)), TxCode.Malformed);

        // Sizes: just past the wire limit, and far past it.
        var oversize = Sign(Coordinator, Unsigned(Coordinator, "refund_job", Refund(RpcNodeFixture.JobId, new string('r', SignedTransaction.MaxWireBytes)), coordinatorNonce));
        await ExpectRefusedAsync(probe, $"refund of {oversize.Length} bytes", oversize, TxCode.Malformed);
        await ExpectRefusedAsync(probe, "a 1 MiB transaction", Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(oversize).Replace(new string('r', 100), new string('r', 6500), StringComparison.Ordinal)), TxCode.Malformed);

        // Unicode in string fields that take any text: the refusal is the rule's (here: the job is already paid), not a crash.
        foreach (var reason in new[] { "\u0000", "😀\u202e\u200b\ufeff", "\ud83d\ude00", "line\nbreak\t\"quoted\"\\", "é" + new string('\u0301', 200), "\uffff\ufffe" })
        {
            await ExpectRefusedAsync(probe, $"refund reason {JsonSerializer.Serialize(reason)}", Sign(Coordinator, Unsigned(Coordinator, "refund_job", Refund(RpcNodeFixture.JobId, reason), coordinatorNonce)), TxCode.EscrowClosed);
        }
        // A lone surrogate cannot be signed in canonical form; escaped into otherwise valid bytes it is malformed.
        var refundWire = Encoding.UTF8.GetString(Sign(Coordinator, Unsigned(Coordinator, "refund_job", Refund(RpcNodeFixture.JobId, "LONE"), coordinatorNonce)));
        foreach (var escape in new[] { "\\ud800", "\\udfff", "\\udc00\\ud800", "\\ud83d" })
        {
            await ExpectRefusedAsync(probe, $"refund reason escaped {escape}", Encoding.UTF8.GetBytes(refundWire.Replace("LONE", escape, StringComparison.Ordinal)), TxCode.Malformed);
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Refused_envelopes_never_admit_a_valid_transaction()
    {
        var probe = await StartAsync("tx/envelope");
        // Two valid transfers in nonce order: admitted the moment any path accepts them, which the snapshot would show.
        var first = await ValidTransferAsync(Other, 1);
        var second = Sign(Other, Unsigned(Other, "transfer", TransferBody(Sender.Address.Value, "2"), await NextNonceAsync(Other) + 1));
        var tx1 = Convert.ToBase64String(first);
        var tx2 = Convert.ToBase64String(second);

        string Call(string envelope, string tx) => $"{{{envelope},\"params\":{{\"tx\":\"{tx}\"}}}}";
        var refusedEnvelopes = new (string Envelope, int Code, string Id)[]
        {
            ("\"jsonrpc\":2,\"id\":1,\"method\":\"broadcast_tx_sync\"", -32600, "1"),
            ("\"jsonrpc\":2.0,\"id\":1,\"method\":\"broadcast_tx_sync\"", -32600, "1"),
            ("\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"broadcast_tx_sync\"", -32600, "1"),
            ("\"jsonrpc\":null,\"id\":1,\"method\":\"broadcast_tx_sync\"", -32600, "1"),
            ("\"id\":1,\"method\":\"broadcast_tx_sync\"", -32600, "1"),
            ("\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"broadcast_tx_sync\"", -32600, "null"),
            ("\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"broadcast_tx_async\"", -32600, "null"),
            ("\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"broadcast_tx_commit\"", -32600, "null"),
            ("\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Broadcast_tx_sync\"", -32601, "1"),
            ("\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync \"", -32601, "1"),
            ("\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\\u0000\"", -32601, "1"),
            ("\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\ud800broadcast_tx_sync\"", -32600, "1"),
        };
        foreach (var (envelope, code, id) in refusedEnvelopes)
        {
            await probe.ExpectErrorAsync($"single {{{envelope}}}", Call(envelope, tx1), code, id);
            await probe.ExpectAnswerAsync($"batch of two {{{envelope}}}", $"[{Call(envelope, tx1)},{Call(envelope, tx2)}]", answer =>
                answer.ValueKind == JsonValueKind.Array && answer.GetArrayLength() == 2
                    ? answer.EnumerateArray().Select(a => HostileProbe.CheckError(a, code, id, a.GetRawText())).FirstOrDefault(p => p is not null)
                    : $"expected 2 answers: {HostileProbe.Clip(answer.GetRawText())}");
        }
        // Params that carry the transaction in a form the method does not read.
        foreach (var parameters in new[] { $"[\"{tx1}\"]", $"{{\"TX\":\"{tx1}\"}}", $"{{\"tx\":[\"{tx1}\"]}}", $"{{\"tx\":{{\"tx\":\"{tx1}\"}}}}", $"\"{tx1}\"", $"{{\"tx\":\"{tx1}\\ud800\"}}" })
        {
            foreach (var method in new[] { "broadcast_tx_sync", "broadcast_tx_async", "broadcast_tx_commit" })
            {
                await probe.ExpectCallErrorAsync($"{method} params {HostileProbe.Clip(parameters)}", method, parameters, -32602);
            }
        }
        foreach (var query in new[] { $"tx%00={Uri.EscapeDataString(tx1)}", $"tx=0x{Convert.ToHexString(first)}ZZ" })
        {
            await probe.ExpectGetErrorAsync($"GET broadcast_tx_sync?{HostileProbe.Clip(query)}", $"broadcast_tx_sync?{query}", -32602);
        }
        // check_tx of the valid transaction says it would pass, and still admits nothing.
        await probe.ExpectCallResultAsync("check_tx of the valid transfer", "check_tx", $"{{\"tx\":\"{tx1}\"}}", result =>
            result.GetProperty("code").GetInt32() == 0 ? null : $"valid transfer refused by check_tx: {result}");
        await probe.ExpectGetResultAsync("GET check_tx of the valid transfer", $"check_tx?tx=0x{Convert.ToHexString(first)}", result =>
            result.GetProperty("code").GetInt32() == 0 ? null : $"valid transfer refused by check_tx: {result}");

        // A batch of broadcasts of refused transactions takes the batch path and admits none of them.
        var replay = Convert.ToBase64String(fixture.SeedTx.WireBytes);
        await probe.ExpectAnswerAsync("batch of replays and garbage", $"[{Call("\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\"", replay)},{Call("\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"broadcast_tx_async\"", "AAAA")},{Call("\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"broadcast_tx_sync\"", tx2)}]",
            answer =>
            {
                if (answer.ValueKind != JsonValueKind.Array || answer.GetArrayLength() != 3)
                {
                    return $"expected 3 answers: {HostileProbe.Clip(answer.GetRawText())}";
                }
                var codes = answer.EnumerateArray().Select(a => a.GetProperty("result").GetProperty("code").GetInt32()).ToArray();
                // The second transfer's nonce is one past the account's: refused like the others while the first is not admitted.
                return codes.SequenceEqual([(int)TxCode.BadNonce, (int)TxCode.Malformed, (int)TxCode.BadNonce]) ? null : $"codes {string.Join(',', codes)}";
            });
        probe.AssertAll();
    }

    // ---------------- sending ----------------

    /// <summary>Four cases: the transaction through check_tx and the three broadcasts; each must carry <paramref name="code"/>.</summary>
    private static async Task ExpectRefusedAsync(HostileProbe probe, string name, byte[] wire, TxCode code)
    {
        var tx = Convert.ToBase64String(wire);
        var hash = HostileProbe.TxHash(wire);
        foreach (var method in new[] { "check_tx", "broadcast_tx_sync", "broadcast_tx_async", "broadcast_tx_commit" })
        {
            await probe.ExpectCallResultAsync($"{name} via {method}", method, $"{{\"tx\":\"{tx}\"}}", result =>
            {
                var check = method == "broadcast_tx_commit" ? result.GetProperty("check_tx") : result;
                var actual = check.GetProperty("code").GetUInt32();
                if (actual != (uint)code)
                {
                    return $"expected code {(uint)code} ({code}), got {actual}: {HostileProbe.Clip(check.GetProperty("log").GetString() ?? "")}";
                }
                if (string.IsNullOrWhiteSpace(check.GetProperty("log").GetString()))
                {
                    return "refusal without a log";
                }
                if (method.StartsWith("broadcast_tx_s", StringComparison.Ordinal) || method == "broadcast_tx_async")
                {
                    return result.GetProperty("hash").GetString() == hash ? null : $"hash {result.GetProperty("hash")} is not SHA-256 of the bytes ({hash})";
                }
                return method == "broadcast_tx_commit" && result.GetProperty("height").GetString() != "0" ? $"refused tx reported at height {result.GetProperty("height")}" : null;
            });
        }
    }

    private async Task<HostileProbe> StartAsync(string group)
    {
        await EnsureOpenEscrowAsync();
        return await HostileProbe.StartAsync(fixture, group, output, $"/job/{OpenJobId}");
    }

    /// <summary>Once per run: Spare(7) allows the coordinator, which opens <see cref="OpenJobId"/> for it (valid, committed transactions).</summary>
    private async Task EnsureOpenEscrowAsync()
    {
        await SetupGate.WaitAsync();
        try
        {
            if (_setupDone)
            {
                return;
            }
            await fixture.Rpc.CommitOkAsync(EscrowClient.Sign(new ApproveBody(Coordinator.Address, new Amount(OpenJobAllowance))));
            await fixture.Rpc.CommitOkAsync(Coordinator.Sign(new SubmitJobBody(OpenJobId, EscrowClient.Address, RpcNodeFixture.ContentHash("open"), new Amount(OpenJobMax))));
            _setupDone = true;
        }
        finally
        {
            SetupGate.Release();
        }
    }

    // ---------------- building transactions ----------------

    private async Task<ulong> NextNonceAsync(Wallet wallet) => (await fixture.Rpc.AccountAsync(wallet.Address.Value)).Nonce + 1;

    /// <summary>A valid, never-sent transfer of <paramref name="micro"/> to Spare(5)/(6) with the account's next nonce.</summary>
    private async Task<byte[]> ValidTransferAsync(Wallet from, ulong micro)
    {
        var to = from == Sender ? Other : Sender;
        return Sign(from, Unsigned(from, "transfer", TransferBody(to.Address.Value, micro.ToString(System.Globalization.CultureInfo.InvariantCulture)), await NextNonceAsync(from)));
    }

    private JsonObject Unsigned(Wallet signer, string type, JsonObject body, ulong nonce, string? chainId = null, string? pubKey = null) => new()
    {
        ["chain_id"] = chainId ?? ChainId,
        ["type"] = type,
        ["pub_key"] = pubKey ?? signer.Key.PublicKey.Base64,
        ["nonce"] = nonce,
        ["body"] = body.DeepClone(),
    };

    /// <summary>Signs any envelope as a wallet would (Ed25519 over the JCS without signature) and returns the JCS wire bytes.</summary>
    private static byte[] Sign(Wallet signer, JsonObject unsigned) => WithSignature(unsigned, signer.Key.Sign(CanonicalJson.Serialize(unsigned)));

    private static byte[] WithSignature(JsonObject unsigned, byte[] signature)
    {
        var signed = (JsonObject)unsigned.DeepClone();
        signed["signature"] = Convert.ToBase64String(signature);
        return CanonicalJson.Serialize(signed);
    }

    private static JsonObject TransferBody(string to, string amount) => new() { ["to"] = to, ["amount"] = amount };

    private static JsonObject Job(string id, string client, string payloadHash, string max) =>
        new() { ["job_id"] = id, ["client"] = client, ["payload_hash"] = payloadHash, ["max_amount"] = max };

    private static JsonObject Refund(string id, string reason) => new() { ["job_id"] = id, ["reason"] = reason };

    /// <summary>A record_receipt body whose miner proof is signed by <paramref name="signer"/> (the miner by default) unless a signature is given.</summary>
    private static JsonObject Receipt(string receiptId, string jobId, Wallet miner, string amountPaid, string? signature = null, Wallet? signer = null,
        double computeTime = 1.5, JsonNode? tokens = null, string model = "tiny-llama")
    {
        var promptHash = RpcNodeFixture.ContentHash("open");
        var resultHash = RpcNodeFixture.ContentHash("hostile result");
        var tokenCount = tokens?.GetValueKind() == JsonValueKind.Number && tokens.ToJsonString() is var t && long.TryParse(t, out var n) ? n : 12;
        signature ??= new MinerProof(jobId, model.Length == 0 ? "m" : model, promptHash, resultHash, Math.Max(computeTime, 0), Math.Max(tokenCount, 0)).Sign((signer ?? miner).Key);
        return new JsonObject
        {
            ["receipt_id"] = receiptId,
            ["job_id"] = jobId,
            ["miner"] = miner.Address.Value,
            ["amount_paid"] = amountPaid,
            ["result_hash"] = resultHash,
            ["miner_signature"] = signature,
            ["model"] = model,
            ["prompt_hash"] = promptHash,
            ["compute_time"] = computeTime,
            ["tokens_generated"] = tokens?.DeepClone() ?? 12,
        };
    }

    /// <summary>The same members in another order: same JSON value, not the canonical bytes.</summary>
    private static string ReorderedKeys(string canonical)
    {
        var node = JsonNode.Parse(canonical)!.AsObject();
        var reordered = new JsonObject();
        foreach (var (key, value) in node.Reverse().ToList())
        {
            reordered[key] = value?.DeepClone();
        }
        return reordered.ToJsonString();
    }
}
