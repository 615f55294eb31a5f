using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// The JSON-RPC envelope under attack: bodies that are not JSON, nesting bombs, batches of every size and mix, ids
/// of every JSON type, wrong or missing members, and method names that name nothing.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class EnvelopeHostileTests(RpcNodeFixture fixture, ITestOutputHelper output)
{
    private const int Parse = -32700;
    private const int Invalid = -32600;
    private const int NoMethod = -32601;
    private const int BadParams = -32602;

    [Fact]
    public async Task Bodies_that_are_not_json_are_parse_errors()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/not-json", output);
        var valid = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":{}}";
        string[] bodies =
        [
            "", " ", "\r\n\t", "hello", "{", "}", "[", "]", "{\"jsonrpc\"", valid[..^1], valid[..20], valid + "x", valid + valid,
            valid + "," + valid, "{'jsonrpc':'2.0','id':1,'method':'status'}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",}",
            "[" + valid + ",]", "{\"jsonrpc\":\"2.0\",\"id\":NaN,\"method\":\"status\"}", "{\"jsonrpc\":\"2.0\",\"id\":Infinity,\"method\":\"status\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":-,\"method\":\"status\"}", "{\"jsonrpc\":\"2.0\",\"id\":01,\"method\":\"status\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":1.,\"method\":\"status\"}", "{\"jsonrpc\":\"2.0\",\"id\":0x10,\"method\":\"status\"}",
            "/* comment */" + valid, valid + "// comment", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sta\ntus\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\\x\"}", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\\u12\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\u0000\"}", "{\"jsonrpc\":\"2.0\" \"id\":1}", "{\"jsonrpc\" \"2.0\"}",
            "tru", "nul", "\"unterminated", "\u00ff\u00fe garbage", "\ufeff\ufeff" + valid, "\\u007b",
            "height=1&method=status", "<?xml version=\"1.0\"?><methodCall/>",
        ];
        foreach (var body in bodies)
        {
            await probe.ExpectErrorAsync($"body {JsonSerializer.Serialize(HostileProbe.Clip(body))}", body, Parse);
        }

        // Bytes that are not UTF-8 at all, inside and outside strings: RFC 8259 JSON text is UTF-8.
        byte[][] raw =
        [
            [0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00],
            [0x80],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\""u8, 0xC3, 0x28, .. "\"}"u8],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status"u8, 0xFF, .. "\"}"u8],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":\""u8, 0xED, 0xA0, 0x80, .. "\",\"method\":\"status\"}"u8],
            [.. "{\"jsonrpc\":\"2."u8, 0xF0, 0x9F, .. "0\",\"id\":1,\"method\":\"status\"}"u8],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"abci_query\",\"params\":{\"path\":\"/job/"u8, 0xC0, 0xAF, .. "\"}}"u8],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\""u8, 0xFE, .. "\":1}"u8],
            [.. "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"},{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\""u8, 0xFF, .. "\"}]"u8],
            [0xEF, 0xBB, 0xBF],
            [0x00],
            [.. "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"}"u8, 0x00],
        ];
        foreach (var body in raw)
        {
            await probe.ExpectErrorAsync($"bytes {Convert.ToHexString(body[..Math.Min(body.Length, 24)])}", body, Parse);
        }

        // A UTF-8 byte order mark before a valid request: RFC 8259 forbids sending one; the node refuses it as a parse error.
        await probe.ExpectErrorAsync("BOM then a valid request", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(valid)], Parse);
        probe.AssertAll();
    }

    [Fact]
    public async Task Nesting_bombs_are_parse_errors()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/nesting", output);
        foreach (var depth in new[] { 33, 100, 1_000, 10_000, 100_000 })
        {
            await probe.ExpectErrorAsync($"{depth}-deep arrays", new string('[', depth) + new string(']', depth), Parse);
            await probe.ExpectErrorAsync($"{depth}-deep arrays, unclosed", new string('[', depth), Parse);
            await probe.ExpectErrorAsync($"{depth}-deep objects", string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth), Parse);
            await probe.ExpectErrorAsync($"{depth}-deep params", HostileProbe.Request("status", new string('[', depth) + new string(']', depth)), Parse);
            await probe.ExpectErrorAsync($"{depth}-deep id", "{\"jsonrpc\":\"2.0\",\"method\":\"status\",\"id\":" + new string('[', depth) + new string(']', depth) + "}", Parse);
            await probe.ExpectErrorAsync($"{depth}-deep batch", new string('[', depth) + "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}" + new string(']', depth), Parse);
        }
        // Shallow enough to parse: the node answers, whatever the nesting of an ignored member.
        await probe.ExpectResultAsync("20-deep ignored member", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\",\"x\":" + new string('[', 20) + new string(']', 20) + "}", "1");
        await probe.ExpectErrorAsync("20-deep params", HostileProbe.Request("health", new string('[', 20) + new string(']', 20)), BadParams, "1");
        probe.AssertAll();
    }

    [Fact]
    public async Task Ids_of_every_json_type_are_echoed_or_refused()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/ids", output);
        // Valid ids (string, number, null) come back exactly as sent, on a result and on an error.
        string[] echoed =
        [
            "0", "1", "-1", "9007199254740993", "9223372036854775807", "9223372036854775808", "-9223372036854775809",
            "18446744073709551616", "123456789012345678901234567890", "1.5", "-0", "0.0", "1e400", "-1e400", "1E-400", "2.5e+3",
            "\"\"", "\"abc\"", "\"1\"", "\"null\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\ud83d\\ude00\"", "\"😀\"",
            "\"\\u202e\\u200b\\ufeff\"", "\"" + new string('i', 10_000) + "\"", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "null",
        ];
        foreach (var id in echoed)
        {
            var label = HostileProbe.Clip(id);
            await probe.ExpectResultAsync($"id {label} on a result", $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"health\"}}", id);
            await probe.ExpectErrorAsync($"id {label} on an unknown method", $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"nope\"}}", NoMethod, id);
            await probe.ExpectErrorAsync($"id {label} on bad params", $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"block\",\"params\":{{\"height\":\"x\"}}}}", BadParams, id);
        }
        // JSON-RPC 2.0: an id is a string, a number or null; anything else makes the request invalid (answered with id null).
        foreach (var id in new[] { "true", "false", "{}", "{\"a\":1}", "[]", "[1]", "[\"x\",null]" })
        {
            await probe.ExpectErrorAsync($"id {id}", $"{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"health\"}}", Invalid);
        }
        // No id at all (a notification): still answered, with id null.
        await probe.ExpectResultAsync("no id", "{\"jsonrpc\":\"2.0\",\"method\":\"health\"}", "null");
        await probe.ExpectErrorAsync("no id, unknown method", "{\"jsonrpc\":\"2.0\",\"method\":\"nope\"}", NoMethod);
        probe.AssertAll();
    }

    [Fact]
    public async Task Wrong_missing_and_extra_members()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/members", output);
        foreach (var version in new[] { "\"1.0\"", "\"2\"", "\"2.00\"", "\" 2.0\"", "\"2.0 \"", "\"2.0\\u0000\"", "\"\\ud800\"", "\"\"", "2.0", "2", "null", "true", "{}", "[\"2.0\"]" })
        {
            await probe.ExpectErrorAsync($"jsonrpc {version}", $"{{\"jsonrpc\":{version},\"id\":5,\"method\":\"health\"}}", Invalid, "5");
        }
        await probe.ExpectErrorAsync("jsonrpc missing", "{\"id\":5,\"method\":\"health\"}", Invalid, "5");
        await probe.ExpectErrorAsync("jsonrpc missing, broadcast", "{\"id\":5,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"AAAA\"}}", Invalid, "5");
        foreach (var method in new[] { "5", "null", "true", "{}", "[\"health\"]", "[]", "1e400" })
        {
            await probe.ExpectErrorAsync($"method {method}", $"{{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":{method}}}", Invalid, "5");
        }
        await probe.ExpectErrorAsync("method missing", "{\"jsonrpc\":\"2.0\",\"id\":5,\"params\":{}}", Invalid, "5");
        await probe.ExpectErrorAsync("method is an escaped lone surrogate", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"\\ud800\"}", Invalid, "5");
        await probe.ExpectErrorAsync("method is a reversed surrogate pair", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"status\\udc00\\ud800\"}", Invalid, "5");
        await probe.ExpectErrorAsync("request {\"id\":1}", "{\"id\":1}", Invalid, "1");
        foreach (var body in new[] { "{}", "{\"jsonrpc\":\"2.0\"}", "{\"params\":{}}", "null", "true", "false", "0", "-1.5e9", "\"status\"", "\"\"" })
        {
            await probe.ExpectErrorAsync($"request {body}", body, Invalid);
        }
        // Extra members are ignored; duplicate members take the last value (System.Text.Json), consistently for every reader.
        await probe.ExpectResultAsync("extra members", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"health\",\"params\":{},\"extra\":[1,{\"a\":null}],\"result\":1,\"error\":{}}", "5");
        await probe.ExpectResultAsync("extra params member", HostileProbe.Request("health", "{\"unexpected\":\"\\u0000\",\"height\":\"x\"}", "5"), "5");
        await probe.ExpectErrorAsync("duplicate method, last unknown", "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"health\",\"method\":\"nope\"}", NoMethod, "5");
        await probe.ExpectErrorAsync("duplicate jsonrpc, last wrong", "{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"1.0\",\"id\":5,\"method\":\"health\"}", Invalid, "5");

        // Params that are not an object of named parameters (positional params are not supported: docs/protocol.md says an object).
        foreach (var parameters in new[] { "\"x\"", "1", "true", "false", "[1]", "[\"1\"]", "[null]", "[{}]", "1e400", "\"\\ud800\"" })
        {
            foreach (var method in new[] { "health", "block", "broadcast_tx_sync", "abci_query" })
            {
                await probe.ExpectErrorAsync($"{method} params {parameters}", HostileProbe.Request(method, parameters, "5"), BadParams, "5");
            }
        }
        await probe.ExpectResultAsync("params []", HostileProbe.Request("health", "[]", "5"), "5");
        await probe.ExpectResultAsync("params null", HostileProbe.Request("health", "null", "5"), "5");
        await probe.ExpectResultAsync("params {}", HostileProbe.Request("health", "{}", "5"), "5");
        probe.AssertAll();
    }

    [Fact]
    public async Task Method_names_that_name_nothing_are_method_not_found()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/methods", output);
        string[] names =
        [
            "", " ", "Status", "STATUS", "status ", " status", "\tstatus", "status\n", "Broadcast_tx_sync", "BROADCAST_TX_COMMIT", "broadcast-tx-sync",
            "broadcast_tx", "broadcastTxSync", "status\u0000", "\u0000", "ѕtatus", "ｓｔａｔｕｓ", "stat\u00adus", "status\u200b", "status/", "/status",
            "rpc.discover", "rpc.status", "dial_seeds", "dial_peers", "unsafe_flush_mempool", "subscribe", "unsubscribe_all", "consensus_state",
            "dump_consensus_state", "block_by_hash", "broadcast_evidence", "__proto__", "constructor", "toString", "../status", "status?x=1",
            "😀", new string('a', 63) + "😀", new string('m', 100_000), "\ud83d\ude00\ud83d\ude00",
        ];
        foreach (var name in names)
        {
            await probe.ExpectErrorAsync($"method {JsonSerializer.Serialize(HostileProbe.Clip(name))}",
                $"{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":{JsonSerializer.Serialize(name)},\"params\":{{}}}}", NoMethod, "9");
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Batches_of_every_size_and_mix()
    {
        var probe = await HostileProbe.StartAsync(fixture, "envelope/batches", output);
        await probe.ExpectErrorAsync("empty batch", "[]", Invalid);
        await probe.ExpectErrorAsync("empty batch with spaces", " [ ] ", Invalid);
        await probe.ExpectErrorAsync("1001 requests", "[" + string.Join(',', Enumerable.Range(0, 1001).Select(i => $"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"health\"}}")) + "]", Invalid);
        await probe.ExpectErrorAsync("100000 requests", "[" + string.Join(',', Enumerable.Repeat("{}", 100_000)) + "]", Invalid);
        await probe.ExpectAnswerAsync("1000 requests", "[" + string.Join(',', Enumerable.Range(0, 1000).Select(i => $"{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"health\"}}")) + "]",
            answer => answer.ValueKind == JsonValueKind.Array && answer.GetArrayLength() == 1000
                && answer.EnumerateArray().Select((a, i) => HostileProbe.CheckResult(a, i.ToString(System.Globalization.CultureInfo.InvariantCulture), a.GetRawText())).All(p => p is null)
                ? null : "not 1000 results in order");

        foreach (var item in new[] { "1", "null", "true", "\"x\"", "[]", "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}]", "{}" })
        {
            await probe.ExpectAnswerAsync($"batch of [{item}]", $"[{item}]", answer => ExpectBatch(answer, (Invalid, "null")));
            await probe.ExpectAnswerAsync($"batch of [{item},{item},{item}]", $"[{item},{item},{item}]", answer => ExpectBatch(answer, (Invalid, "null"), (Invalid, "null"), (Invalid, "null")));
        }

        // Mixed: each answer in order, with its id, whatever the others do.
        var mixed = "[" + string.Join(',',
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":\"nope\"}",
            "{\"jsonrpc\":\"1.0\",\"id\":3,\"method\":\"health\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"block\",\"params\":{\"height\":\"x\"}}",
            "7",
            "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"health\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":\"\\ud800\",\"method\":\"\\ud800\"}",
            "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"AAAA\"}}",
            "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"abci_query\",\"params\":{\"path\":\"/nope\"}}",
            "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"health\"}") + "]";
        await probe.ExpectAnswerAsync("mixed batch", mixed, answer =>
        {
            if (answer.ValueKind != JsonValueKind.Array || answer.GetArrayLength() != 10)
            {
                return $"expected 10 answers: {HostileProbe.Clip(answer.GetRawText())}";
            }
            var a = answer.EnumerateArray().ToList();
            return HostileProbe.CheckResult(a[0], "1", a[0].GetRawText())
                ?? HostileProbe.CheckError(a[1], NoMethod, "\"b\"", a[1].GetRawText())
                ?? HostileProbe.CheckError(a[2], Invalid, "3", a[2].GetRawText())
                ?? HostileProbe.CheckError(a[3], BadParams, "4", a[3].GetRawText())
                ?? HostileProbe.CheckError(a[4], Invalid, "null", a[4].GetRawText())
                ?? HostileProbe.CheckError(a[5], Invalid, "null", a[5].GetRawText())
                ?? HostileProbe.CheckError(a[6], Invalid, "\"\\ud800\"", a[6].GetRawText())
                ?? (HostileProbe.CheckResult(a[7], "8", a[7].GetRawText()) is { } p7 ? p7 : a[7].GetProperty("result").GetProperty("code").GetInt32() == 1 ? null : $"garbage tx admitted: {a[7]}")
                ?? (HostileProbe.CheckResult(a[8], "9", a[8].GetRawText()) is { } p8 ? p8 : a[8].GetProperty("result").GetProperty("response").GetProperty("code").GetInt32() != 0 ? null : $"unknown path answered code 0: {a[8]}")
                ?? HostileProbe.CheckResult(a[9], "null", a[9].GetRawText());
        });
        probe.AssertAll();
    }

    private static string? ExpectBatch(JsonElement answer, params (int Code, string Id)[] expected)
    {
        if (answer.ValueKind != JsonValueKind.Array || answer.GetArrayLength() != expected.Length)
        {
            return $"expected a batch of {expected.Length} answers: {HostileProbe.Clip(answer.GetRawText())}";
        }
        return answer.EnumerateArray().Zip(expected).Select(p => HostileProbe.CheckError(p.First, p.Second.Code, p.Second.Id, p.First.GetRawText())).FirstOrDefault(p => p is not null);
    }
}
