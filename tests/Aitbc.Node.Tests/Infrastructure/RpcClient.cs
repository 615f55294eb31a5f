using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>A JSON-RPC error answer from the node.</summary>
public sealed class RpcCallException(string method, int code, string message, string? data)
    : Exception($"{method}: JSON-RPC error {code} {message}: {data}")
{
    public int Code { get; } = code;

    public string? Detail { get; } = data;
}

/// <summary>An account as abci_query /account/{address} reports it.</summary>
public sealed record AccountView(string Address, ulong Balance, ulong Nonce, ulong Stake);

/// <summary>A small JSON-RPC 2.0 client of one node, plus the raw HTTP calls the error tests need.</summary>
public sealed class RpcClient : IDisposable
{
    private readonly HttpClient _http;
    private long _nextId;

    public RpcClient(Uri baseUrl, TimeSpan? timeout = null)
    {
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = baseUrl,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
    }

    public Uri BaseUrl => _http.BaseAddress!;

    public HttpClient Http => _http;

    /// <summary>POSTs one request with named params and returns its <c>result</c>; a JSON-RPC error throws <see cref="RpcCallException"/>.</summary>
    public async Task<JsonElement> CallAsync(string method, JsonObject? parameters = null, CancellationToken cancellationToken = default)
    {
        var request = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _nextId),
            ["method"] = method,
            ["params"] = parameters ?? new JsonObject(),
        };
        var (status, answer) = await PostAsync(request.ToJsonString(), cancellationToken);
        if (status != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"{method}: HTTP {(int)status}: {answer}");
        }
        return Unwrap(method, answer);
    }

    /// <summary>GET /method?args (CometBFT URI style) and returns <c>result</c>.</summary>
    public async Task<JsonElement> GetResultAsync(string method, params (string Name, string Value)[] query)
    {
        var (status, answer) = await GetAsync(method, query);
        if (status != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"GET {method}: HTTP {(int)status}: {answer}");
        }
        return Unwrap(method, answer);
    }

    public async Task<(HttpStatusCode Status, JsonElement Answer)> GetAsync(string method, params (string Name, string Value)[] query)
    {
        var path = method + (query.Length == 0 ? "" : "?" + string.Join('&', query.Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value)}")));
        using var response = await _http.GetAsync(path);
        return (response.StatusCode, await ReadJsonAsync(response, CancellationToken.None));
    }

    public async Task<(HttpStatusCode Status, JsonElement Answer)> PostAsync(string body, CancellationToken cancellationToken = default)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await PostAsync(content, cancellationToken);
    }

    public async Task<(HttpStatusCode Status, JsonElement Answer)> PostAsync(HttpContent content, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync("", content, cancellationToken);
        return (response.StatusCode, await ReadJsonAsync(response, cancellationToken));
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} answer is not JSON ({e.Message}): {text[..Math.Min(text.Length, 500)]}");
        }
    }

    public static JsonElement Unwrap(string method, JsonElement answer)
    {
        if (answer.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            throw new RpcCallException(method, error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? "",
                error.TryGetProperty("data", out var data) ? data.ToString() : null);
        }
        return answer.GetProperty("result");
    }

    // ---------------- conveniences over the methods ----------------

    public async Task<long> HeightAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync("status", cancellationToken: cancellationToken);
        return ParseLong(status.GetProperty("sync_info").GetProperty("latest_block_height"));
    }

    public async Task<JsonElement> StatusAsync() => await CallAsync("status");

    /// <summary>abci_query at <paramref name="path"/>: the response object (code, log, value…).</summary>
    public async Task<JsonElement> QueryAsync(string path) =>
        (await CallAsync("abci_query", new JsonObject { ["path"] = path, ["data"] = "" })).GetProperty("response");

    /// <summary>abci_query's value, decoded from base64 JSON; fails when code != 0.</summary>
    public async Task<JsonElement> QueryValueAsync(string path)
    {
        var response = await QueryAsync(path);
        var code = response.GetProperty("code").GetUInt32();
        if (code != 0)
        {
            throw new InvalidOperationException($"abci_query {path}: code {code} {response.GetProperty("log").GetString()}");
        }
        using var document = JsonDocument.Parse(Convert.FromBase64String(response.GetProperty("value").GetString()!));
        return document.RootElement.Clone();
    }

    public async Task<AccountView> AccountAsync(string address)
    {
        var value = await QueryValueAsync($"/account/{address}");
        return new AccountView(
            value.GetProperty("address").GetString()!,
            ParseULong(value.GetProperty("balance")),
            value.GetProperty("nonce").GetUInt64(),
            ParseULong(value.GetProperty("stake")));
    }

    public async Task<(ulong TotalSupply, ulong Counted)> SupplyAsync()
    {
        var value = await QueryValueAsync("/supply");
        return (ParseULong(value.GetProperty("total_supply")), ParseULong(value.GetProperty("counted")));
    }

    public Task<JsonElement> BroadcastCommitAsync(SignedTransaction tx, CancellationToken cancellationToken = default) =>
        CallAsync("broadcast_tx_commit", new JsonObject { ["tx"] = Convert.ToBase64String(tx.WireBytes) }, cancellationToken);

    public Task<JsonElement> BroadcastSyncAsync(SignedTransaction tx) =>
        CallAsync("broadcast_tx_sync", new JsonObject { ["tx"] = Convert.ToBase64String(tx.WireBytes) });

    /// <summary>Commits a transaction and checks it went in: returns the block height.</summary>
    public async Task<long> CommitOkAsync(SignedTransaction tx)
    {
        var result = await BroadcastCommitAsync(tx);
        var check = result.GetProperty("check_tx");
        var deliver = result.GetProperty("tx_result");
        if (check.GetProperty("code").GetUInt32() != 0 || deliver.GetProperty("code").GetUInt32() != 0)
        {
            throw new InvalidOperationException($"tx {tx.Hash} refused: check_tx {check} tx_result {deliver}");
        }
        return ParseLong(result.GetProperty("height"));
    }

    /// <summary>The tx, or null when the node does not know it (any JSON-RPC error).</summary>
    public async Task<JsonElement?> FindTxAsync(string hash)
    {
        try
        {
            return await CallAsync("tx", new JsonObject { ["hash"] = hash });
        }
        catch (RpcCallException)
        {
            return null;
        }
    }

    /// <summary>Many calls in JSON-RPC batches (at most 500 per request); answers in call order, each a result or an error.</summary>
    public async Task<IReadOnlyList<(JsonElement? Result, RpcCallException? Error)>> BatchAsync(IReadOnlyList<(string Method, JsonObject Params)> calls)
    {
        var answers = new List<(JsonElement?, RpcCallException?)>(calls.Count);
        foreach (var chunk in calls.Chunk(500))
        {
            var batch = new JsonArray([.. chunk.Select((c, i) => (JsonNode)new JsonObject
            {
                ["jsonrpc"] = "2.0",
                ["id"] = i,
                ["method"] = c.Method,
                ["params"] = c.Params.DeepClone(),
            })]);
            var (status, answer) = await PostAsync(batch.ToJsonString());
            if (status != HttpStatusCode.OK || answer.ValueKind != JsonValueKind.Array)
            {
                throw new HttpRequestException($"batch: HTTP {(int)status}: {answer}");
            }
            var byId = answer.EnumerateArray().ToDictionary(a => a.GetProperty("id").GetInt32());
            for (var i = 0; i < chunk.Length; i++)
            {
                try
                {
                    answers.Add((Unwrap(chunk[i].Method, byId[i]), null));
                }
                catch (RpcCallException e)
                {
                    answers.Add((null, e));
                }
            }
        }
        return answers;
    }

    /// <summary>Looks up many txs at once: hash → the tx answer, or null when the node does not have it.</summary>
    public async Task<Dictionary<string, JsonElement?>> FindTxsAsync(IEnumerable<string> hashes)
    {
        var list = hashes.ToList();
        var answers = await BatchAsync([.. list.Select(h => ("tx", new JsonObject { ["hash"] = h }))]);
        return list.Zip(answers).ToDictionary(p => p.First, p => p.Second.Result, StringComparer.Ordinal);
    }

    public async Task<string> MetricsAsync() => await _http.GetStringAsync("metrics");

    public static long ParseLong(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number ? element.GetInt64() : long.Parse(element.GetString()!, CultureInfo.InvariantCulture);

    public static ulong ParseULong(JsonElement element) =>
        element.ValueKind == JsonValueKind.Number ? element.GetUInt64() : ulong.Parse(element.GetString()!, CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();
}
