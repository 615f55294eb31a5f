using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// Every method's params under attack: wrong JSON types, missing, null, extra, integers at and past the 64-bit edges,
/// hashes and addresses of every length and alphabet, unicode edge cases (escaped lone surrogates, NUL, bidi, BOM).
/// Bad values are -32602; well-formed values the chain cannot serve (a height past the tip, an unknown hash) are
/// -32603 as in CometBFT; both by POST and by GET.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class ParamsHostileTests(RpcNodeFixture fixture, ITestOutputHelper output)
{
    private const int BadParams = -32602;
    private const int Internal = -32603;

    /// <summary>JSON values that are not a 64-bit integer in any spelling the node accepts.</summary>
    public static readonly string[] NotAnInteger =
    [
        "\"abc\"", "\"1.5\"", "1.5", "1e400", "-1e400", "1e2", "\"1e2\"", "9223372036854775808", "\"9223372036854775808\"",
        "18446744073709551616", "\"18446744073709551616\"", "-9223372036854775809", "\"-9223372036854775809\"", "1E+2", "0.0",
        "true", "false", "{}", "[]", "[1]", "{\"height\":1}", "\" 1\"", "\"1 \"", "\"0x1\"", "\"١\"", "\"１\"", "\"1\\u0000\"",
        "\"\\ud800\"", "\"\\udc00\"", "\"NaN\"", "\"Infinity\"", "\"-\"", "\"+\"", "\"--1\"", "\"1_000\"", "\"1,000\"", "\"\\u202e1\"",
        "\"" + new string('9', 10_000) + "\"",
    ];

    /// <summary>Integers the node reads but no chain of this age has: refused by the method, as CometBFT does.</summary>
    private static string[] OutOfRange(long tip) =>
    [
        "0", "\"0\"", "-1", "\"-1\"", "-0", "\"-0\"", (tip + 1).ToString(CultureInfo.InvariantCulture), $"\"{tip + 1}\"",
        "9223372036854775807", "\"9223372036854775807\"", "-9223372036854775808", "\"-9223372036854775808\"", "4294967296", "\"2147483648\"",
    ];

    [Fact]
    public async Task Heights_of_every_shape_for_block_header_commit_results_and_validators()
    {
        var probe = await HostileProbe.StartAsync(fixture, "params/heights", output);
        var tip = await probe.Rpc.HeightAsync();
        foreach (var method in new[] { "block", "block_results", "header", "commit", "validators" })
        {
            foreach (var value in NotAnInteger)
            {
                await probe.ExpectCallErrorAsync($"{method} height {HostileProbe.Clip(value)}", method, $"{{\"height\":{value}}}", BadParams);
            }
            foreach (var value in OutOfRange(tip).Where(v => method != "validators" || v.Trim('"') is not ("0" or "-0")))
            {
                await probe.ExpectCallErrorAsync($"{method} height {value}", method, $"{{\"height\":{value}}}", Internal);
            }
            foreach (var value in new[] { "1", "\"1\"", "\"+1\"", tip.ToString(CultureInfo.InvariantCulture), $"\"{tip}\"", "null", "\"\"" })
            {
                await probe.ExpectCallResultAsync($"{method} height {value}", method, $"{{\"height\":{value}}}");
            }
            await probe.ExpectCallResultAsync($"{method} without params", method, "{}");
            await probe.ExpectCallResultAsync($"{method} with extra params", method, "{\"height\":\"1\",\"page\":\"x\",\"\\ud800\":1,\"prove\":{}}");

            foreach (var value in new[] { "abc", "1.5", "9223372036854775808", "0x1", "%00", "%ED%A0%80", "1%00", "\"1", "%221%22%22" })
            {
                await probe.ExpectGetErrorAsync($"GET {method}?height={value}", $"{method}?height={value}", BadParams);
            }
            foreach (var value in new[] { "-1", "9223372036854775807", (tip + 1).ToString(CultureInfo.InvariantCulture) })
            {
                await probe.ExpectGetErrorAsync($"GET {method}?height={value}", $"{method}?height={value}", Internal);
            }
            foreach (var query in new[] { "height=1", "height=%221%22", "height=", "height=1&height=x", "other=%FF%FE" })
            {
                await probe.ExpectGetResultAsync($"GET {method}?{query}", $"{method}?{query}");
            }
        }
        await probe.ExpectCallResultAsync("validators height 0", "validators", "{\"height\":0}");
        probe.AssertAll();
    }

    [Fact]
    public async Task Blockchain_ranges_and_mempool_limits()
    {
        var probe = await HostileProbe.StartAsync(fixture, "params/ranges", output);
        var tip = await probe.Rpc.HeightAsync();
        foreach (var name in new[] { "minHeight", "maxHeight" })
        {
            foreach (var value in NotAnInteger)
            {
                await probe.ExpectCallErrorAsync($"blockchain {name} {HostileProbe.Clip(value)}", "blockchain", $"{{\"{name}\":{value}}}", BadParams);
            }
        }
        // Any pair of integers is a range; a minimum past the (clamped) maximum is refused, as CometBFT does.
        long[] edges = [long.MinValue, -1, 0, 1, tip, tip + 1, long.MaxValue];
        foreach (var min in edges)
        {
            foreach (var max in edges)
            {
                var effectiveMax = Math.Min(max > 0 ? max : tip, tip);
                var effectiveMin = min > 0 ? min : 1;
                var parameters = $"{{\"minHeight\":\"{min}\",\"maxHeight\":{max}}}";
                if (effectiveMin > effectiveMax)
                {
                    await probe.ExpectCallErrorAsync($"blockchain {min}..{max}", "blockchain", parameters, Internal);
                }
                else
                {
                    await probe.ExpectCallResultAsync($"blockchain {min}..{max}", "blockchain", parameters, result =>
                        result.GetProperty("block_metas").GetArrayLength() is >= 1 and <= 20 ? null : $"block_metas: {result}");
                }
            }
        }
        foreach (var method in new[] { "unconfirmed_txs", "num_unconfirmed_txs" })
        {
            foreach (var value in NotAnInteger)
            {
                await probe.ExpectCallErrorAsync($"{method} limit {HostileProbe.Clip(value)}", method, $"{{\"limit\":{value}}}", BadParams);
            }
            foreach (var value in new[] { "0", "-1", "1", "100", "101", "9223372036854775807", "-9223372036854775808", "\"5\"", "null" })
            {
                await probe.ExpectCallResultAsync($"{method} limit {value}", method, $"{{\"limit\":{value}}}", result =>
                    result.GetProperty("total").GetString() == "0" ? null : $"mempool not empty: {result}");
            }
        }
        foreach (var method in new[] { "health", "status", "genesis", "net_info", "abci_info" })
        {
            await probe.ExpectCallResultAsync($"{method} with junk params", method, "{\"height\":\"\\ud800\",\"x\":[[[[1]]]],\"\":null}");
            await probe.ExpectGetResultAsync($"GET {method} with junk query", $"{method}?height=%ED%A0%80&%00=%FF");
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Tx_hashes_of_every_length_and_alphabet()
    {
        var probe = await HostileProbe.StartAsync(fixture, "params/tx-hash", output);
        var seed = fixture.SeedTx.Hash;
        var malformed = new List<string>();
        foreach (var length in new[] { 0, 1, 2, 31, 32, 33, 43, 44, 45, 62, 63, 65, 66, 88, 128, 129, 10_000 })
        {
            malformed.Add(new string('A', length));
            malformed.Add(new string('7', length));
        }
        malformed.AddRange(
        [
            "0x", "0x" + seed[..62], "0x" + seed + "00", "0X" + seed + "0", seed[..63] + "G", seed[..63] + "g", seed[..63] + " ", " " + seed[1..],
            seed[..63] + "\u0000", "\u0000" + seed[1..], seed[..62] + "é", seed[..63] + "٣", seed[..63] + "３", seed.Insert(32, "-"),
            Convert.ToBase64String(new byte[31]), Convert.ToBase64String(new byte[33]), Convert.ToBase64String(new byte[32]).TrimEnd('='),
            Convert.ToBase64String(new byte[32])[..^2] + "==", "%" + seed[1..], "\u202e" + seed[1..], "\ufeff" + seed[1..],
        ]);
        foreach (var hash in malformed)
        {
            await probe.ExpectCallErrorAsync($"tx hash {JsonSerializer.Serialize(HostileProbe.Clip(hash))}", "tx", $"{{\"hash\":{JsonSerializer.Serialize(hash)}}}", BadParams);
        }
        foreach (var value in new[] { "12", "1e400", "true", "{}", "[]", $"[\"{seed}\"]", "\"\\ud800\"", $"\"{seed[..63]}\\udc00\"" })
        {
            await probe.ExpectCallErrorAsync($"tx hash {HostileProbe.Clip(value)}", "tx", $"{{\"hash\":{value}}}", BadParams);
        }
        await probe.ExpectCallErrorAsync("tx without hash", "tx", "{}", BadParams);
        await probe.ExpectCallErrorAsync("tx hash null", "tx", "{\"hash\":null}", BadParams);

        // Well-formed hashes nobody committed: not found, in every accepted spelling.
        foreach (var hash in new[] { new string('0', 64), new string('F', 64), new string('f', 64), "0x" + new string('a', 64), Convert.ToBase64String(new byte[32]), "__________________________________________8=" })
        {
            if (hash.Contains('_'))
            {
                await probe.ExpectCallErrorAsync($"tx hash {hash} (base64url)", "tx", $"{{\"hash\":\"{hash}\"}}", BadParams);
                continue;
            }
            await probe.ExpectCallErrorAsync($"tx unknown hash {hash}", "tx", $"{{\"hash\":\"{hash}\"}}", Internal);
        }
        // The committed one, in lower case, with 0x, and in base64: found.
        foreach (var hash in new[] { seed, seed.ToLowerInvariant(), "0x" + seed, "0X" + seed.ToLowerInvariant(), Convert.ToBase64String(Convert.FromHexString(seed)) })
        {
            await probe.ExpectCallResultAsync($"tx {hash}", "tx", $"{{\"hash\":\"{hash}\",\"prove\":\"\\ud800\"}}", result =>
                result.GetProperty("hash").GetString() == seed ? null : $"wrong tx: {result}");
        }
        foreach (var value in new[] { "0xZZ", "abc", "%ED%A0%80", "0x" + seed[..62], "%00" })
        {
            await probe.ExpectGetErrorAsync($"GET tx?hash={value}", $"tx?hash={value}", BadParams);
        }
        await probe.ExpectGetResultAsync("GET tx?hash=0x…", $"tx?hash=0x{seed}");
        probe.AssertAll();
    }

    [Fact]
    public async Task Tx_search_queries_pages_and_orders()
    {
        var probe = await HostileProbe.StartAsync(fixture, "params/tx-search", output);
        var sender = fixture.Net.Funded[0].Address.Value;
        string[] badQueries =
        [
            "", " ", "\u0000", "\ud7ff", "tx.height", "tx.height=", "tx.height='x'", "tx.height=99999999999999999999", "tx.height=1.5",
            "tx.height = 1 OR 1=1", "transfer.sender > 'a'", "transfer.sender CONTAINS 'a'", "transfer.sender EXISTS", "a='b' AND", "AND a='b'",
            "a='b' AND AND c='d'", "a='b'' OR ''='", "a=b c=d", "' OR 1=1 --", "a='b'; DROP TABLE txs; --", "é='x'", "a\u0000='b'",
            "transfer.sender='" + sender + "' OR tx.height>0", "tx.hash > 'A'", "a='b' and c='d'",
            string.Concat(Enumerable.Repeat("a='b' AND ", 2_000)) + "c='d'",
            "a='b'" + new string(' ', 200_000) + "AND c='d'", "a='b' " + string.Concat(Enumerable.Repeat(" AND", 50_000)),
            "a=" + new string('\'', 100_000),
        ];
        foreach (var query in badQueries)
        {
            await probe.ExpectCallErrorAsync($"tx_search query {JsonSerializer.Serialize(HostileProbe.Clip(query))}", "tx_search", $"{{\"query\":{JsonSerializer.Serialize(query)}}}", BadParams);
        }
        foreach (var value in new[] { "1", "null", "true", "{}", "[]", "\"\\ud800\"", "\"tx.height>0 AND a='\\udc00'\"" })
        {
            await probe.ExpectCallErrorAsync($"tx_search query {value}", "tx_search", $"{{\"query\":{value}}}", BadParams);
        }
        foreach (var value in NotAnInteger.Append("0").Append("-1").Append("\"-9223372036854775808\""))
        {
            await probe.ExpectCallErrorAsync($"tx_search page {HostileProbe.Clip(value)}", "tx_search", $"{{\"query\":\"tx.height>0\",\"page\":{value}}}", BadParams);
        }
        foreach (var value in NotAnInteger)
        {
            await probe.ExpectCallErrorAsync($"tx_search per_page {HostileProbe.Clip(value)}", "tx_search", $"{{\"query\":\"tx.height>0\",\"per_page\":{value}}}", BadParams);
        }
        foreach (var value in new[] { "\"ASC\"", "\"up\"", "\"asc \"", "\"\\u0000\"", "\"\\ud800\"", "1", "true", "[]" })
        {
            await probe.ExpectCallErrorAsync($"tx_search order_by {value}", "tx_search", $"{{\"query\":\"tx.height>0\",\"order_by\":{value}}}", BadParams);
        }
        // Well-formed queries at the edges: answers, possibly empty.
        string[] goodQueries =
        [
            "tx.height>0", "tx.height>=-9223372036854775808", "tx.height<9223372036854775807", "tx.height=9223372036854775807", "tx.height<=-1",
            $"transfer.sender='{sender}'", "transfer.sender='\u0000'", "transfer.sender='é😀\u202e'", "tx.hash='zz'", $"tx.hash='{fixture.SeedTx.Hash}'",
            "a.b.c-d_e='' AND tx.height>0",
        ];
        foreach (var query in goodQueries)
        {
            foreach (var (page, perPage) in new[] { ("1", "1"), ("9223372036854775807", "100"), ("\"2\"", "-5"), ("1", "9223372036854775807") })
            {
                await probe.ExpectCallResultAsync($"tx_search {JsonSerializer.Serialize(query)} page {page} per_page {perPage}", "tx_search",
                    $"{{\"query\":{JsonSerializer.Serialize(query)},\"page\":{page},\"per_page\":{perPage},\"order_by\":\"desc\"}}",
                    result => result.GetProperty("txs").ValueKind == JsonValueKind.Array ? null : $"no txs array: {result}");
            }
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Broadcast_and_check_tx_params()
    {
        var probe = await HostileProbe.StartAsync(fixture, "params/tx-bytes", output);
        foreach (var method in new[] { "broadcast_tx_sync", "broadcast_tx_async", "broadcast_tx_commit", "check_tx" })
        {
            foreach (var value in new[] { "null", "\"\"", "1", "1e400", "true", "{}", "[]", "[\"AAAA\"]", "\"!!!!\"", "\"AAA\"", "\"A===\"", "\"\\ud800\"", "\"AA\\u0000A\"", "\"AAAA\\udc00\"" })
            {
                await probe.ExpectCallErrorAsync($"{method} tx {value}", method, $"{{\"tx\":{value}}}", BadParams);
            }
            await probe.ExpectCallErrorAsync($"{method} without tx", method, "{}", BadParams);
            await probe.ExpectCallErrorAsync($"{method} with TX", method, "{\"TX\":\"AAAA\"}", BadParams);
            foreach (var query in new[] { "tx=0xZZ", "tx=0x", "tx=@@@", "tx=", "tx=%ED%A0%80", "tx=0x%00" })
            {
                await probe.ExpectGetErrorAsync($"GET {method}?{query}", $"{method}?{query}", BadParams);
            }
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Abci_query_paths_heights_and_data()
    {
        var miner = fixture.Miner.Address.Value;
        var probe = await HostileProbe.StartAsync(fixture, "params/abci-query", output);
        var tip = await probe.Rpc.HeightAsync();
        foreach (var value in new[] { "1", "1e400", "true", "{}", "[]", "[\"/supply\"]", "\"\\ud800\"", "\"/account/\\udc00\"" })
        {
            await probe.ExpectCallErrorAsync($"abci_query path {value}", "abci_query", $"{{\"path\":{value}}}", BadParams);
        }
        await probe.ExpectCallErrorAsync("abci_query without path", "abci_query", "{\"data\":\"00\"}", BadParams);
        await probe.ExpectCallErrorAsync("abci_query path null", "abci_query", "{\"path\":null}", BadParams);
        foreach (var value in NotAnInteger)
        {
            await probe.ExpectCallErrorAsync($"abci_query height {HostileProbe.Clip(value)}", "abci_query", $"{{\"path\":\"/supply\",\"height\":{value}}}", BadParams);
        }

        // Known paths with ids that name nothing, malformed addresses of every length and alphabet, unknown paths:
        // each a query answer with a non-zero code and a log, never an RPC error.
        var valid = miner;
        var refused = new List<string>
        {
            "", "/", "//", "/account", "/account/", "/account//", "/miner", "/miner/", "/job", "/job/", "/receipt/", "/nope", "/Account/" + valid,
            "/ACCOUNT/" + valid, "/../supply/x", "/account/" + valid[..^1], "/account/" + valid + "q", "/account/" + valid[..^1] + "b",
            "/account/" + valid.ToUpperInvariant()[..10] + valid[10..], "/account/aitbc1", "/account/bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "/account/cosmos1" + valid[6..], "/account/" + valid[..^1] + (valid[^1] == 'q' ? "p" : "q"), "/account/" + valid.Replace("1", "i", StringComparison.Ordinal),
            "/supply/x", "/miners/" + valid, "/supply/x/y/../..",
            "/miner/" + fixture.Client.Address.Value, "/miner/" + valid + "\u0000", "/account/" + valid + "\u0000", "/account/\u0000",
            "/account/" + new string('q', 5_000), "/account/%ZZ", "/account/%ED%A0%80", "/account/%F0%9F%98", "/account/%00",
            "/job/\u0000", "/job/%00", "/job/%ED%A0%80", "/job/😀", "/job/" + new string('j', 100_000), "/job/\u202eevil", "/receipt/\ufeff",
            "/job/" + RpcNodeFixture.JobId + "%00", "\u0000/supply", "/\ud7ff", "/account/ｑ",
        };
        foreach (var length in new[] { 1, 7, 8, 9, 44, 45, 89, 90, 91, 200 })
        {
            refused.Add("/account/aitbc1" + new string('q', Math.Max(0, length - 6)));
            refused.Add("/miner/" + new string('z', length));
        }
        foreach (var path in refused)
        {
            await probe.ExpectCallResultAsync($"abci_query {JsonSerializer.Serialize(HostileProbe.Clip(path))}", "abci_query",
                $"{{\"path\":{JsonSerializer.Serialize(path)},\"data\":\"%%garbage\\u0000\"}}", result => QueryRefused(result, path));
        }

        // Known paths with real ids, with garbage data and any prove: answered (data is not used: the path carries the key).
        string[] found = [$"/account/{valid}", $"/account/{valid.ToUpperInvariant()}", $"/miner/{valid}", $"/job/{RpcNodeFixture.JobId}", $"/receipt/{RpcNodeFixture.ReceiptId}", "/miners", "/supply", "supply", "/supply/", $"account/{valid}", $"/receipt/{RpcNodeFixture.ReceiptId}/"];
        foreach (var path in found)
        {
            foreach (var extra in new[] { "", ",\"data\":\"zz\"", ",\"data\":123", ",\"data\":\"\\ud800\"", ",\"prove\":\"maybe\"", $",\"height\":{tip}", ",\"height\":0", ",\"height\":-5" })
            {
                await probe.ExpectCallResultAsync($"abci_query {path}{extra}", "abci_query", $"{{\"path\":{JsonSerializer.Serialize(path)}{extra}}}", result =>
                    result.GetProperty("response").GetProperty("code").GetInt32() == 0 ? null : $"expected code 0: {result}");
            }
            await probe.ExpectCallResultAsync($"abci_query {path} at an old height", "abci_query", $"{{\"path\":{JsonSerializer.Serialize(path)},\"height\":1}}", result => QueryRefused(result, path));
        }
        foreach (var query in new[] { "path=%22%2Fjob%2F%ED%A0%80%22", "path=%22%2Faccount%2F%00%22", "path=/nope", "path=%22%22" })
        {
            await probe.ExpectGetResultAsync($"GET abci_query?{query}", $"abci_query?{query}", result => QueryRefused(result, query));
        }
        await probe.ExpectGetErrorAsync("GET abci_query without path", "abci_query", BadParams);
        probe.AssertAll();
    }

    private static string? QueryRefused(JsonElement result, string path)
    {
        var response = result.GetProperty("response");
        if (response.GetProperty("code").GetInt32() == 0)
        {
            return $"path {HostileProbe.Clip(path)} answered code 0: {HostileProbe.Clip(result.GetRawText())}";
        }
        return response.GetProperty("value").ValueKind == JsonValueKind.Null && !string.IsNullOrWhiteSpace(response.GetProperty("log").GetString())
            ? null : $"refused query without a log or with a value: {HostileProbe.Clip(result.GetRawText())}";
    }
}
