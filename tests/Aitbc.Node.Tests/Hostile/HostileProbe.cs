using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Crypto;
using Aitbc.Node.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// Runs hostile requests against the shared RPC node and checks the same things after every one: an HTTP 200 with a
/// parseable JSON-RPC answer of the expected shape, the node still serving, no new error in its log, and the state
/// a client can observe (tip, app hash, mempool, supply, every known account, miner and escrow) exactly as before.
/// Failures are collected, not thrown, so one run lists every broken case; <see cref="AssertAll"/> ends the group.
/// </summary>
public sealed class HostileProbe
{
    /// <summary>Every code a JSON-RPC error from the node may carry.</summary>
    public static readonly int[] RpcCodes = [-32700, -32600, -32601, -32602, -32603];

    private readonly RpcNodeFixture _fixture;
    private readonly ITestOutputHelper _output;
    private readonly string _group;
    private readonly List<string> _failures = [];
    private readonly string _snapshotRequest;
    private string _baseline = "";
    private long _logOffset;

    private HostileProbe(RpcNodeFixture fixture, string group, ITestOutputHelper output, IEnumerable<string> extraQueryPaths)
    {
        _fixture = fixture;
        _group = group;
        _output = output;
        var net = fixture.Net;
        var paths = new List<string> { "/supply", $"/miner/{fixture.Miner.Address.Value}", $"/job/{RpcNodeFixture.JobId}", $"/receipt/{RpcNodeFixture.ReceiptId}" };
        paths.AddRange(net.Funded.Append(net.Coordinator).Select(w => $"/account/{w.Address.Value}"));
        paths.AddRange(extraQueryPaths);
        var batch = new JsonArray
        {
            Call("status", []),
            Call("num_unconfirmed_txs", []),
        };
        foreach (var path in paths)
        {
            batch.Add(Call("abci_query", new JsonObject { ["path"] = path }));
        }
        _snapshotRequest = batch.ToJsonString();

        static JsonObject Call(string method, JsonObject parameters) =>
            new() { ["jsonrpc"] = "2.0", ["id"] = method, ["method"] = method, ["params"] = parameters };
    }

    public int Cases { get; private set; }

    public RpcClient Rpc => _fixture.Rpc;

    public NodeProcess Node => _fixture.Node;

    /// <summary>Starts a group: takes the baseline the cases must leave unchanged.</summary>
    public static async Task<HostileProbe> StartAsync(RpcNodeFixture fixture, string group, ITestOutputHelper output, params string[] extraQueryPaths)
    {
        var probe = new HostileProbe(fixture, group, output, extraQueryPaths);
        // Another test's transactions may still be on their way into a block; the baseline is taken at rest.
        await Poll.UntilAsync(async () =>
        {
            var pending = await fixture.Rpc.CallAsync("num_unconfirmed_txs");
            return pending.GetProperty("total").GetString() == "0" ? "empty" : null;
        }, TimeSpan.FromSeconds(60), "an empty mempool before the hostile cases");
        probe._baseline = await probe.SnapshotAsync();
        probe._logOffset = LogLength(fixture.Node.LogPath);
        return probe;
    }

    // ---------------- cases ----------------

    /// <summary>One case: <paramref name="act"/> sends and returns null when the answer is right, else what is wrong.</summary>
    public async Task CaseAsync(string name, Func<Task<string?>> act)
    {
        Cases++;
        string? problem;
        try
        {
            problem = await act();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = $"threw {e.GetType().Name}: {e.Message}";
        }
        if (problem is not null)
        {
            Fail(name, problem);
        }
        await CheckNodeUnchangedAsync(name);
    }

    /// <summary>POSTs a body (any bytes) and expects a single JSON-RPC error with <paramref name="code"/> and the id given as raw JSON.</summary>
    public Task ExpectErrorAsync(string name, byte[] body, int code, string idJson = "null") =>
        CaseAsync(name, async () =>
        {
            var (status, answer, text) = await PostRawAsync(body);
            return CheckStatus(status, text) ?? CheckError(answer, code, idJson, text);
        });

    public Task ExpectErrorAsync(string name, string body, int code, string idJson = "null") =>
        ExpectErrorAsync(name, Encoding.UTF8.GetBytes(body), code, idJson);

    /// <summary>POSTs a body and expects a single JSON-RPC result with the id; <paramref name="check"/> may look into the result.</summary>
    public Task ExpectResultAsync(string name, string body, string idJson, Func<JsonElement, string?>? check = null) =>
        ExpectResultAsync(name, Encoding.UTF8.GetBytes(body), idJson, check);

    public Task ExpectResultAsync(string name, byte[] body, string idJson, Func<JsonElement, string?>? check = null) =>
        CaseAsync(name, async () =>
        {
            var (status, answer, text) = await PostRawAsync(body);
            return CheckStatus(status, text) ?? CheckResult(answer, idJson, text) ?? check?.Invoke(answer.GetProperty("result"));
        });

    /// <summary>POSTs a body and hands the parsed answer to <paramref name="check"/> (after the HTTP status check).</summary>
    public Task ExpectAnswerAsync(string name, string body, Func<JsonElement, string?> check) =>
        ExpectAnswerAsync(name, Encoding.UTF8.GetBytes(body), check);

    public Task ExpectAnswerAsync(string name, byte[] body, Func<JsonElement, string?> check) =>
        CaseAsync(name, async () =>
        {
            var (status, answer, text) = await PostRawAsync(body);
            return CheckStatus(status, text) ?? (answer.ValueKind == JsonValueKind.Undefined ? $"answer is not JSON: {Clip(text)}" : check(answer));
        });

    /// <summary>A named-params call by POST; expects the JSON-RPC error <paramref name="code"/>.</summary>
    public Task ExpectCallErrorAsync(string name, string method, string paramsJson, int code) =>
        ExpectErrorAsync(name, Request(method, paramsJson, "\"h\""), code, "\"h\"");

    /// <summary>A named-params call by POST; expects a result, optionally checked.</summary>
    public Task ExpectCallResultAsync(string name, string method, string paramsJson, Func<JsonElement, string?>? check = null) =>
        ExpectResultAsync(name, Request(method, paramsJson, "7"), "7", check);

    public static string Request(string method, string paramsJson, string idJson = "1") =>
        $"{{\"jsonrpc\":\"2.0\",\"id\":{idJson},\"method\":{JsonSerializer.Serialize(method)},\"params\":{paramsJson}}}";

    /// <summary>GET /method?query (query already encoded); expects a JSON-RPC error with <paramref name="code"/> and id -1.</summary>
    public Task ExpectGetErrorAsync(string name, string pathAndQuery, int code) =>
        CaseAsync(name, async () =>
        {
            var (status, answer, text) = await GetRawAsync(pathAndQuery);
            return CheckStatus(status, text) ?? CheckError(answer, code, "-1", text);
        });

    public Task ExpectGetResultAsync(string name, string pathAndQuery, Func<JsonElement, string?>? check = null) =>
        CaseAsync(name, async () =>
        {
            var (status, answer, text) = await GetRawAsync(pathAndQuery);
            return CheckStatus(status, text) ?? CheckResult(answer, "-1", text) ?? check?.Invoke(answer.GetProperty("result"));
        });

    // ---------------- answer checks ----------------

    public static string? CheckStatus(HttpStatusCode status, string text) =>
        status == HttpStatusCode.OK ? null : $"HTTP {(int)status} (every JSON-RPC answer is a 200): {Clip(text)}";

    /// <summary>A JSON-RPC 2.0 error object with the code and id; message non-empty, data a string, no result.</summary>
    public static string? CheckError(JsonElement answer, int code, string? idJson, string text)
    {
        if (CheckShape(answer, idJson, text) is { } shape)
        {
            return shape;
        }
        if (!answer.TryGetProperty("error", out var error) || error.ValueKind != JsonValueKind.Object)
        {
            return $"expected error {code}, got {Clip(text)}";
        }
        if (!error.TryGetProperty("code", out var actual) || actual.ValueKind != JsonValueKind.Number || actual.GetInt32() != code)
        {
            return $"expected error {code}, got {Clip(text)}";
        }
        if (!error.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(message.GetString()))
        {
            return $"error without a message: {Clip(text)}";
        }
        return error.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String ? null : $"error data is not a string: {Clip(text)}";
    }

    public static string? CheckResult(JsonElement answer, string? idJson, string text) =>
        CheckShape(answer, idJson, text) ?? (answer.TryGetProperty("result", out _) ? null : $"expected a result, got {Clip(text)}");

    /// <summary>jsonrpc "2.0", the id echoed exactly (raw JSON; null when <paramref name="idJson"/> is null it is not checked), exactly one of result and error.</summary>
    public static string? CheckShape(JsonElement answer, string? idJson, string text)
    {
        if (answer.ValueKind != JsonValueKind.Object)
        {
            return $"answer is not a JSON-RPC object: {Clip(text)}";
        }
        if (!answer.TryGetProperty("jsonrpc", out var version) || version.ValueKind != JsonValueKind.String || version.GetString() != "2.0")
        {
            return $"answer lacks jsonrpc \"2.0\": {Clip(text)}";
        }
        if (!answer.TryGetProperty("id", out var id))
        {
            return $"answer has no id: {Clip(text)}";
        }
        if (idJson is not null && id.GetRawText() != idJson)
        {
            return $"answer id {Clip(id.GetRawText())} is not the request's {Clip(idJson)}";
        }
        return answer.TryGetProperty("result", out _) == answer.TryGetProperty("error", out _) ? $"answer must hold exactly one of result and error: {Clip(text)}" : null;
    }

    /// <summary>For fuzzed requests whose exact answer is not known: a JSON-RPC answer or batch of answers, every error with a JSON-RPC code.</summary>
    public static string? CheckAnyAnswer(JsonElement answer, string text)
    {
        var items = answer.ValueKind == JsonValueKind.Array ? [.. answer.EnumerateArray()] : new List<JsonElement> { answer };
        foreach (var item in items)
        {
            if (CheckShape(item, null, text) is { } problem)
            {
                return problem;
            }
            if (item.TryGetProperty("error", out var error)
                && (!error.TryGetProperty("code", out var code) || code.ValueKind != JsonValueKind.Number || !RpcCodes.Contains(code.GetInt32())))
            {
                return $"error code is not a JSON-RPC code: {Clip(text)}";
            }
        }
        return null;
    }

    public static string Clip(string text) => text.Length <= 300 ? text : text[..300] + $"…({text.Length} chars)";

    // ---------------- transport ----------------

    public async Task<(HttpStatusCode Status, JsonElement Answer, string Text)> PostRawAsync(byte[] body, string contentType = "application/json")
    {
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        using var response = await Rpc.Http.PostAsync("", content);
        return await ReadAsync(response);
    }

    public async Task<(HttpStatusCode Status, JsonElement Answer, string Text)> GetRawAsync(string pathAndQuery)
    {
        using var response = await Rpc.Http.GetAsync(pathAndQuery);
        return await ReadAsync(response);
    }

    private static async Task<(HttpStatusCode, JsonElement, string)> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            using var document = JsonDocument.Parse(text);
            return (response.StatusCode, document.RootElement.Clone(), text);
        }
        catch (JsonException)
        {
            return (response.StatusCode, default, text);
        }
    }

    // ---------------- state ----------------

    /// <summary>Everything a refused request must not change, as one comparable text.</summary>
    public async Task<string> SnapshotAsync()
    {
        var (status, answer) = await Rpc.PostAsync(_snapshotRequest);
        if (status != HttpStatusCode.OK || answer.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidOperationException($"snapshot: HTTP {(int)status}: {answer}");
        }
        var text = new StringBuilder();
        foreach (var item in answer.EnumerateArray())
        {
            var result = item.GetProperty("result");
            switch (item.GetProperty("id").GetString())
            {
                case "status":
                    var sync = result.GetProperty("sync_info");
                    text.Append("height=").Append(sync.GetProperty("latest_block_height").GetString())
                        .Append(" app_hash=").Append(sync.GetProperty("latest_app_hash").GetString())
                        .Append(" block=").Append(sync.GetProperty("latest_block_hash").GetString()).Append('\n');
                    break;
                case "num_unconfirmed_txs":
                    text.Append("mempool=").Append(result.GetProperty("total").GetString())
                        .Append('/').Append(result.GetProperty("total_bytes").GetString()).Append('\n');
                    break;
                default:
                    var response = result.GetProperty("response");
                    text.Append(response.GetProperty("code").GetRawText()).Append(' ')
                        .Append(response.GetProperty("value").ValueKind == JsonValueKind.String
                            ? Encoding.UTF8.GetString(Convert.FromBase64String(response.GetProperty("value").GetString()!))
                            : response.GetProperty("log").GetString()).Append('\n');
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>After a deliberate, valid change (test setup): the new state becomes the baseline.</summary>
    public async Task RebaselineAsync() => _baseline = await SnapshotAsync();

    private async Task CheckNodeUnchangedAsync(string name)
    {
        if (Node.HasExited)
        {
            Fail(name, $"the node process exited:\n{Node.OutputTail}");
            throw new InvalidOperationException(Report());
        }
        string now;
        try
        {
            now = await SnapshotAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or InvalidOperationException or KeyNotFoundException)
        {
            Fail(name, $"the node no longer answers: {e.Message}");
            throw new InvalidOperationException(Report());
        }
        if (now != _baseline)
        {
            Fail(name, $"state changed:\n--- before\n{_baseline}--- after\n{now}");
            _baseline = now;
        }
        var errors = NewLogErrors();
        if (errors.Length > 0)
        {
            Fail(name, $"the node logged errors: {Clip(errors)}");
        }
    }

    private string NewLogErrors()
    {
        var path = Node.LogPath;
        var length = LogLength(path);
        if (length <= _logOffset)
        {
            return "";
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(_logOffset, SeekOrigin.Begin);
        var added = new byte[length - _logOffset];
        stream.ReadExactly(added);
        _logOffset = length;
        return string.Join('\n', Encoding.UTF8.GetString(added).Split('\n').Where(l => l.Contains("[ERR]", StringComparison.Ordinal) || l.Contains("[FTL]", StringComparison.Ordinal)));
    }

    private static long LogLength(string path) => File.Exists(path) ? new FileInfo(path).Length : 0;

    private void Fail(string name, string problem)
    {
        var line = $"[{_group}] {name}: {problem}";
        _failures.Add(line);
        _output.WriteLine("FAIL " + line);
    }

    private string Report() => $"{_group}: {Cases} cases ran, {_failures.Count} failed";

    /// <summary>Ends the group: prints how many cases ran and fails the test with every broken case.</summary>
    public void AssertAll()
    {
        var errors = NewLogErrors();
        if (errors.Length > 0)
        {
            Fail("(end of group)", $"the node logged errors: {Clip(errors)}");
        }
        _output.WriteLine(Report());
        Assert.True(Cases > 0, $"{_group}: no case ran");
        Assert.True(_failures.Count == 0, $"{Report()}:\n{string.Join("\n", _failures)}");
    }

    /// <summary>SHA-256 of the bytes in upper hex: the hash the node must report for a broadcast.</summary>
    public static string TxHash(byte[] wire) => Hashing.Sha256UpperHex(wire);
}
