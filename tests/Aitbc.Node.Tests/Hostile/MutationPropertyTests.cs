using System.Globalization;
using System.Text;
using System.Text.Json;
using CsCheck;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// CsCheck generators over hostile input: byte-level mutations of valid requests and of a valid signed transaction,
/// random params for every method, random envelopes. Each property draws a fixed number of cases from a fixed seed
/// (reproducible, quick); every case must get a well-formed JSON-RPC answer in a 200, and change nothing.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class MutationPropertyTests(RpcNodeFixture fixture, ITestOutputHelper output)
{
    private const ulong Seed = 0x2026_1129_A17B_C0DE;

    /// <summary>Bytes and fragments that break JSON, UTF-8 or number parsing where they land.</summary>
    private static readonly byte[][] Splices =
    [
        "\""u8.ToArray(), "\\"u8.ToArray(), "{"u8.ToArray(), "}"u8.ToArray(), "["u8.ToArray(), "]"u8.ToArray(), ","u8.ToArray(), ":"u8.ToArray(),
        "\\ud800"u8.ToArray(), "\\u0000"u8.ToArray(), "1e400"u8.ToArray(), "null"u8.ToArray(), "-"u8.ToArray(), "0"u8.ToArray(),
        "18446744073709551616"u8.ToArray(), "😀"u8.ToArray(), [0x00], [0xFF], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], " "u8.ToArray(),
    ];

    /// <summary>A mutation: kind, position (fraction of the length), operand.</summary>
    private sealed record Mutation(int Kind, double At, int Operand, int Length);

    private static readonly Gen<Mutation> GenMutation = Gen.Select(Gen.Int[0, 5], Gen.Double[0, 1], Gen.Int[0, 255], Gen.Int[1, 16])
        .Select((kind, at, operand, length) => new Mutation(kind, at, operand, length));

    private static readonly Gen<Mutation[]> GenMutations = GenMutation.Array[1, 4];

    private static readonly string[] Texts =
    [
        "", " ", "\u0000", "😀", "é", "\u202e", "\ufeff", "0x", "0x00", "AAAA", "-1", "0", "1", "1e400", "null", "true", "/supply", "/account/", "/job/x",
        "tx.height>0", "a='b'", "asc", "desc", new string('9', 30), "9223372036854775808", "-9223372036854775809", "\\", "\"", "%00", "'", "' OR 1=1 --",
    ];

    private static readonly Gen<string> GenText = Gen.Frequency(
        (4, Gen.OneOf<string>(Texts)),
        (2, Gen.String[Gen.Char, 0, 24]),
        (1, Gen.String[Gen.Char["0123456789abcdefABCDEF+/=x-"], 0, 90]));

    private static readonly Gen<string> GenScalar = Gen.Frequency(
        (3, Gen.OneOf<string>("null", "true", "false", "0", "-0", "1", "-1", "1.5", "1e400", "-1e400", "1e-400", "9223372036854775807", "9223372036854775808",
            "18446744073709551615", "18446744073709551616", "-9223372036854775809", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\u0000\"", "\"\"")),
        (2, Gen.Long.Select(v => v.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.Double[-1e300, 1e300].Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        (4, GenText.Select(t => JsonSerializer.Serialize(t))));

    private static readonly Gen<string> GenJson = Json(3);

    private static Gen<string> Json(int depth) => depth == 0
        ? GenScalar
        : Gen.Frequency(
            (6, GenScalar),
            (1, Json(depth - 1).Array[0, 3].Select(items => "[" + string.Join(',', items) + "]")),
            (1, Gen.Select(GenText, Json(depth - 1)).Array[0, 3].Select(members => "{" + string.Join(',', members.Select(m => JsonSerializer.Serialize(m.Item1) + ":" + m.Item2)) + "}")));

    private static readonly string[] ParamNames = ["height", "minHeight", "maxHeight", "hash", "query", "page", "per_page", "order_by", "tx", "path", "data", "limit", "prove", "x"];

    [Fact]
    public async Task Mutated_valid_requests_get_json_rpc_answers_and_change_nothing()
    {
        var probe = await HostileProbe.StartAsync(fixture, "property/mutated-requests", output);
        var valid = Convert.ToBase64String(await ValidTransferAsync());
        var seed = fixture.SeedTx.Hash;
        string[] requests =
        [
            HostileProbe.Request("status", "{}"), HostileProbe.Request("health", "[]"), HostileProbe.Request("block", "{\"height\":\"1\"}"),
            HostileProbe.Request("block_results", "{\"height\":1}"), HostileProbe.Request("header", "{}"), HostileProbe.Request("commit", "{\"height\":\"2\"}"),
            HostileProbe.Request("validators", "{\"height\":\"1\"}"), HostileProbe.Request("blockchain", "{\"minHeight\":\"1\",\"maxHeight\":\"3\"}"),
            HostileProbe.Request("tx", $"{{\"hash\":\"{seed}\"}}", "\"t\""), HostileProbe.Request("tx_search", "{\"query\":\"tx.height>0\",\"page\":\"1\",\"per_page\":\"2\"}"),
            HostileProbe.Request("abci_query", "{\"path\":\"/supply\"}"), HostileProbe.Request("abci_query", $"{{\"path\":\"/account/{fixture.Miner.Address.Value}\",\"data\":\"\"}}"),
            HostileProbe.Request("abci_query", $"{{\"path\":\"/job/{RpcNodeFixture.JobId}\"}}"), HostileProbe.Request("check_tx", $"{{\"tx\":\"{valid}\"}}"),
            HostileProbe.Request("unconfirmed_txs", "{\"limit\":\"5\"}"), HostileProbe.Request("num_unconfirmed_txs", "{}"), HostileProbe.Request("abci_info", "{}"),
            HostileProbe.Request("net_info", "{}"), "[" + HostileProbe.Request("health", "{}") + "," + HostileProbe.Request("tx", $"{{\"hash\":\"{seed}\"}}", "2") + "]",
        ];
        var gen = Gen.Select(Gen.Int[0, requests.Length - 1], GenMutations);
        foreach (var (i, (index, mutations)) in Draw(gen, 400, 1))
        {
            var body = Mutate(Encoding.UTF8.GetBytes(requests[index]), mutations);
            await probe.ExpectAnswerAsync($"#{i} {HostileProbe.Clip(Encoding.UTF8.GetString(body))}", body, answer => HostileProbe.CheckAnyAnswer(answer, answer.GetRawText()));
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Mutated_signed_transactions_are_refused_and_change_nothing()
    {
        var probe = await HostileProbe.StartAsync(fixture, "property/mutated-txs", output);
        var valid = await ValidTransferAsync();
        string[] methods = ["check_tx", "broadcast_tx_sync", "broadcast_tx_async", "broadcast_tx_commit"];
        var gen = Gen.Select(Gen.Int[0, methods.Length - 1], GenMutations);
        foreach (var (i, (method, mutations)) in Draw(gen, 300, 2))
        {
            var wire = Mutate(valid, mutations);
            if (wire.Length == 0)
            {
                // An empty tx param is a params error, checked elsewhere; here every case is a transaction.
                wire = [0];
            }
            if (wire.AsSpan().SequenceEqual(valid))
            {
                wire[wire.Length / 2] ^= 0x20;
            }
            var hash = HostileProbe.TxHash(wire);
            await probe.ExpectCallResultAsync($"#{i} {methods[method]} {HostileProbe.Clip(Encoding.UTF8.GetString(wire))}", methods[method], $"{{\"tx\":\"{Convert.ToBase64String(wire)}\"}}", result =>
            {
                var check = methods[method] == "broadcast_tx_commit" ? result.GetProperty("check_tx") : result;
                if (check.GetProperty("code").GetUInt32() == 0)
                {
                    return $"a mutated transaction passed: {result}";
                }
                return result.TryGetProperty("hash", out var h) && h.GetString() != hash ? $"hash {h} is not SHA-256 of the bytes" : null;
            });
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Random_params_for_every_method_are_answered_and_change_nothing()
    {
        var probe = await HostileProbe.StartAsync(fixture, "property/random-params", output);
        var methods = JsonDocument.Parse(await probe.Rpc.Http.GetStringAsync("")).RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToArray();
        var gen = Gen.Select(Gen.Int[0, methods.Length - 1], Gen.Select(Gen.Int[0, ParamNames.Length - 1], GenJson).Array[0, 3], Gen.Long);
        foreach (var (i, (method, members, id)) in Draw(gen, 400, 3))
        {
            var parameters = "{" + string.Join(',', members.Select(m => $"\"{ParamNames[m.Item1]}\":{m.Item2}")) + "}";
            var idJson = id.ToString(CultureInfo.InvariantCulture);
            await probe.ExpectAnswerAsync($"#{i} {methods[method]} {HostileProbe.Clip(parameters)}", HostileProbe.Request(methods[method], parameters, idJson), answer =>
            {
                if (HostileProbe.CheckShape(answer, idJson, answer.GetRawText()) is { } problem)
                {
                    return problem;
                }
                if (answer.TryGetProperty("error", out var error))
                {
                    return error.GetProperty("code").GetInt32() is -32602 or -32603 ? null : $"a well-formed call answered {error}";
                }
                var result = answer.GetProperty("result");
                var isTx = methods[method].StartsWith("broadcast", StringComparison.Ordinal) || methods[method] == "check_tx";
                var check = methods[method] == "broadcast_tx_commit" ? result.GetProperty("check_tx") : result;
                return isTx && check.GetProperty("code").GetUInt32() == 0 ? $"a random tx passed: {result}" : null;
            });
        }
        probe.AssertAll();
    }

    [Fact]
    public async Task Random_envelopes_are_answered_and_change_nothing()
    {
        var probe = await HostileProbe.StartAsync(fixture, "property/random-envelopes", output);
        string[] methodNames = ["\"health\"", "\"status\"", "\"block\"", "\"broadcast_tx_sync\"", "\"check_tx\"", "\"abci_query\"", "\"nope\""];
        var member = Gen.Frequency(
            (3, Gen.Select(Gen.OneOf<string>("\"2.0\"", "\"1.0\"", "2"), Gen.Const(0)).Select((v, _) => "\"jsonrpc\":" + v)),
            (3, GenJson.Select(v => "\"id\":" + v)),
            (3, Gen.Frequency((3, Gen.OneOf<string>(methodNames)), (1, GenJson)).Select(v => "\"method\":" + v)),
            (3, GenJson.Select(v => "\"params\":" + v)),
            (1, Gen.Select(GenText, GenJson).Select((k, v) => JsonSerializer.Serialize(k) + ":" + v)));
        var envelope = member.Array[0, 6].Select(m => "{" + string.Join(',', m) + "}");
        var body = Gen.Frequency((6, envelope), (1, envelope.Array[1, 4].Select(b => "[" + string.Join(',', b) + "]")), (1, GenJson));
        foreach (var (i, text) in Draw(body, 300, 4))
        {
            await probe.ExpectAnswerAsync($"#{i} {HostileProbe.Clip(text)}", text, answer => HostileProbe.CheckAnyAnswer(answer, answer.GetRawText()));
        }
        probe.AssertAll();
    }

    /// <summary>The first <paramref name="count"/> values of <paramref name="gen"/> from a fixed seed: the same cases every run.</summary>
    private static IEnumerable<(int Index, T Value)> Draw<T>(Gen<T> gen, int count, uint stream)
    {
        var pcg = new PCG(stream, Seed);
        for (var i = 0; i < count; i++)
        {
            yield return (i, gen.Generate(pcg, null, out _));
        }
    }

    private static byte[] Mutate(byte[] original, Mutation[] mutations)
    {
        var bytes = new List<byte>(original);
        foreach (var m in mutations)
        {
            var at = Math.Min((int)(m.At * bytes.Count), Math.Max(bytes.Count - 1, 0));
            switch (m.Kind)
            {
                case 0 when bytes.Count > 0:
                    bytes[at] ^= (byte)(1 << (m.Operand % 8));
                    break;
                case 1 when bytes.Count > 0:
                    bytes[at] = (byte)m.Operand;
                    break;
                case 2 when bytes.Count > 0:
                    bytes.RemoveRange(at, Math.Min(m.Length, bytes.Count - at));
                    break;
                case 3:
                    bytes.InsertRange(at, Splices[m.Operand % Splices.Length]);
                    break;
                case 4:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    var slice = bytes.Skip(at).Take(m.Length).ToList();
                    bytes.InsertRange(at, slice);
                    break;
            }
        }
        return [.. bytes];
    }

    /// <summary>A valid transfer from Spare(4) with its next nonce, never sent as is.</summary>
    private async Task<byte[]> ValidTransferAsync()
    {
        var from = fixture.Spare(4);
        var account = await fixture.Rpc.AccountAsync(from.Address.Value);
        return from.Transfer(fixture.Spare(5).Address, 1, account.Nonce + 1).WireBytes;
    }
}
