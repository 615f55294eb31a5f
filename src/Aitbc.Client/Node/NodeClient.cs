using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Client.Http;
using Aitbc.Core;
using Aitbc.Core.Net;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Http.Resilience;
using Polly.Timeout;
using static Aitbc.Client.Node.CometReader;

namespace Aitbc.Client.Node;

/// <summary>
/// Typed client for a node's CometBFT v0.38 JSON-RPC (docs/protocol.md, "Node RPC"): every call is a JSON-RPC POST to the
/// node URL. Retries live in the HttpClient's handlers (<see cref="RetryPipeline"/>), set up by <see cref="Create"/>
/// or by <c>services.AddAitbcNodeClient(url)</c>.
/// </summary>
/// <remarks>
/// Retrying a broadcast is safe: a retried transaction carries the same bytes, so the node refuses the second copy
/// (DuplicateTx while the first waits in the mempool, BadNonce once it is committed); it can never apply twice.
/// </remarks>
public sealed class NodeClient : IDisposable
{
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private long _nextId;

    /// <summary>Wraps <paramref name="http"/>, whose <see cref="HttpClient.BaseAddress"/> is the node's RPC URL.</summary>
    public NodeClient(HttpClient http)
        : this(http, ownsHttp: false)
    {
    }

    private NodeClient(HttpClient http, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsHttp = ownsHttp;
        NodeUrl = http.BaseAddress ?? throw new ArgumentException("the HttpClient's BaseAddress must be the node's RPC URL", nameof(http));
    }

    public Uri NodeUrl { get; }

    /// <summary>A client with its own HttpClient and retry pipeline, for callers without dependency injection (the CLI, tools).</summary>
    public static NodeClient Create(Uri nodeUrl, RetryOptions? retry = null, TimeProvider? time = null, HttpMessageHandler? transport = null)
    {
        ArgumentNullException.ThrowIfNull(nodeUrl);
        var pipeline = RetryPipeline.Build(retry ?? new RetryOptions(), time ?? TimeProvider.System);
        var handler = new ResilienceHandler(pipeline) { InnerHandler = new AttemptCounter(transport ?? Tls.CreateClientHandler()) };
        // The pipeline's attempt timeout bounds each try; HttpClient's own 100 s default would cut across retries.
        var http = new HttpClient(handler) { BaseAddress = nodeUrl, Timeout = Timeout.InfiniteTimeSpan };
        return new NodeClient(http, ownsHttp: true);
    }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    // ---------------- info ----------------

    /// <summary>Returns when the node answers <c>health</c>; throws a <see cref="NodeClientException"/> otherwise.</summary>
    public async Task HealthAsync(CancellationToken cancellationToken = default) =>
        await CallAsync("health", null, cancellationToken).ConfigureAwait(false);

    public async Task<NodeStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        Read("status", await CallAsync("status", null, cancellationToken).ConfigureAwait(false), r =>
        {
            var node = Prop(r, "node_info");
            var sync = Prop(r, "sync_info");
            var validator = Prop(r, "validator_info");
            return new NodeStatus(
                Str(node, "network"),
                Str(node, "id"),
                Str(node, "moniker"),
                Str(node, "version"),
                Long(sync, "latest_block_height"),
                Str(sync, "latest_block_hash"),
                Str(sync, "latest_app_hash"),
                Time(sync, "latest_block_time"),
                Long(sync, "earliest_block_height"),
                Bool(sync, "catching_up"),
                Str(validator, "address"),
                Long(validator, "voting_power"));
        });

    public async Task<GenesisInfo> GetGenesisAsync(CancellationToken cancellationToken = default) =>
        Read("genesis", await CallAsync("genesis", null, cancellationToken).ConfigureAwait(false), r =>
        {
            var g = Prop(r, "genesis");
            return new GenesisInfo(
                Str(g, "chain_id"),
                Time(g, "genesis_time"),
                Long(g, "initial_height"),
                [.. Items(g, "validators").Select(Validator)],
                Prop(g, "app_state").Clone());
        });

    /// <summary>The validator set at <paramref name="height"/> (the latest when null).</summary>
    public async Task<ValidatorSet> GetValidatorsAsync(long? height = null, CancellationToken cancellationToken = default) =>
        Read("validators", await CallAsync("validators", HeightParams(height), cancellationToken).ConfigureAwait(false), r => new ValidatorSet(
            Long(r, "block_height"),
            [.. Items(r, "validators").Select(Validator)],
            Int(r, "total")));

    /// <summary>How many transactions wait in the mempool, and their bytes.</summary>
    public async Task<MempoolInfo> NumUnconfirmedTxsAsync(CancellationToken cancellationToken = default) =>
        Read("num_unconfirmed_txs", await CallAsync("num_unconfirmed_txs", null, cancellationToken).ConfigureAwait(false), r => new MempoolInfo(
            Int(r, "n_txs"),
            Int(r, "total"),
            Long(r, "total_bytes")));

    // ---------------- blocks ----------------

    /// <summary>The block at <paramref name="height"/>, or the latest when null; a height above the tip is a <see cref="NodeRpcException"/>.</summary>
    public async Task<BlockInfo> GetBlockAsync(long? height = null, CancellationToken cancellationToken = default) =>
        Read("block", await CallAsync("block", HeightParams(height), cancellationToken).ConfigureAwait(false), r =>
        {
            var block = Prop(r, "block");
            return new BlockInfo(
                Str(Prop(r, "block_id"), "hash"),
                Header(Prop(block, "header")),
                [.. Items(Prop(block, "data"), "txs").Select(Base64)]);
        });

    public async Task<BlockResults> GetBlockResultsAsync(long? height = null, CancellationToken cancellationToken = default) =>
        Read("block_results", await CallAsync("block_results", HeightParams(height), cancellationToken).ConfigureAwait(false), r => new BlockResults(
            Long(r, "height"),
            [.. Items(r, "txs_results").Select(TxResult)],
            OptStr(r, "app_hash")));

    /// <summary>Summaries of the blocks from <paramref name="minHeight"/> to <paramref name="maxHeight"/>, newest first; the node returns at most 20.</summary>
    public async Task<BlockchainInfo> GetBlockchainAsync(long? minHeight = null, long? maxHeight = null, CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject();
        if (minHeight is { } min)
        {
            parameters["minHeight"] = Int64(min);
        }
        if (maxHeight is { } max)
        {
            parameters["maxHeight"] = Int64(max);
        }
        return Read("blockchain", await CallAsync("blockchain", parameters, cancellationToken).ConfigureAwait(false), r => new BlockchainInfo(
            Long(r, "last_height"),
            [.. Items(r, "block_metas").Select(m => new BlockMeta(Str(Prop(m, "block_id"), "hash"), Header(Prop(m, "header")), Int(m, "num_txs")))]));
    }

    // ---------------- transactions ----------------

    /// <summary>Submits <paramref name="tx"/> and returns once CheckTx has admitted or refused it (not yet committed).</summary>
    public Task<BroadcastResult> BroadcastTxSyncAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        BroadcastAsync("broadcast_tx_sync", tx, cancellationToken);

    /// <summary>
    /// Submits <paramref name="txs"/> as one JSON-RPC batch of <c>broadcast_tx_sync</c> calls (the node admits such a
    /// batch in order under one lock) and returns each one's CheckTx verdict, in the same order. A call the node
    /// answered with a JSON-RPC error comes back as an <see cref="BatchBroadcastResult.Error"/> of its own; a transport
    /// failure throws for the whole batch, as then nothing is known about any of them.
    /// </summary>
    public async Task<IReadOnlyList<BatchBroadcastResult>> BroadcastTxSyncBatchAsync(IReadOnlyList<byte[]> txs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(txs);
        if (txs.Count == 0)
        {
            return [];
        }
        const string method = "broadcast_tx_sync";
        var firstId = Interlocked.Add(ref _nextId, txs.Count) - txs.Count + 1;
        var batch = new JsonArray();
        for (var i = 0; i < txs.Count; i++)
        {
            batch.Add(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = firstId + i, ["method"] = method, ["params"] = TxParams(txs[i]) });
        }
        var bytes = await PostAsync(method, batch, cancellationToken).ConfigureAwait(false);
        using (var document = ParseJson(method, bytes))
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                // A single error object: the node refused the batch as a whole (too large, malformed).
                ParseAnswer(method, bytes);
                throw new NodeProtocolException(NodeUrl, method, "a batch was answered with a single result");
            }
            var results = new BatchBroadcastResult?[txs.Count];
            foreach (var answer in document.RootElement.EnumerateArray())
            {
                // JSON-RPC lets a server answer a batch in any order: match by id.
                if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var id)
                    || id < firstId || id >= firstId + txs.Count)
                {
                    throw new NodeProtocolException(NodeUrl, method, "a batch answer carries an id that was not asked");
                }
                if (answer.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
                {
                    var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 0;
                    results[id - firstId] = new BatchBroadcastResult(null, new NodeRpcException(method, code, OptStr(error, "message"), OptStr(error, "data")).Message);
                    continue;
                }
                if (!answer.TryGetProperty("result", out var result))
                {
                    throw new NodeProtocolException(NodeUrl, method, "a batch answer has neither result nor error");
                }
                results[id - firstId] = new BatchBroadcastResult(Read(method, result, ReadBroadcast), null);
            }
            return [.. results.Select(r => r ?? throw new NodeProtocolException(NodeUrl, method, "a batch answer is missing a call"))];
        }
    }

    /// <summary>Submits <paramref name="tx"/>; CometBFT answers before CheckTx, our node after it, so read the code either way.</summary>
    public Task<BroadcastResult> BroadcastTxAsyncAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        BroadcastAsync("broadcast_tx_async", tx, cancellationToken);

    /// <summary>Submits <paramref name="tx"/> and waits for the block that executes it (or for CheckTx's refusal).</summary>
    public async Task<CommitResult> BroadcastTxCommitAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        Read("broadcast_tx_commit", await CallAsync("broadcast_tx_commit", TxParams(tx), cancellationToken).ConfigureAwait(false), r => new CommitResult(
            TxResult(Prop(r, "check_tx")),
            TxResult(Prop(r, "tx_result")),
            Str(r, "hash"),
            Long(r, "height")));

    /// <summary>Runs CheckTx on <paramref name="tx"/> without adding it to the mempool.</summary>
    public async Task<ExecTxResult> CheckTxAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        Read("check_tx", await CallAsync("check_tx", TxParams(tx), cancellationToken).ConfigureAwait(false), TxResult);

    /// <summary>A committed transaction by its hash (64 hex digits); null when the node has none by that hash.</summary>
    public async Task<TxInfo?> GetTxAsync(string hash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("a transaction hash is 64 hex digits", nameof(hash));
        }
        JsonElement result;
        try
        {
            // Base64 of the hash bytes, as @cosmjs/tendermint-rpc sends it: what any CometBFT node accepts.
            result = await CallAsync("tx", new JsonObject { ["hash"] = Convert.ToBase64String(Convert.FromHexString(hash)) }, cancellationToken).ConfigureAwait(false);
        }
        catch (NodeRpcException e) when (e.ErrorData?.Contains("not found", StringComparison.OrdinalIgnoreCase) == true)
        {
            // CometBFT reports an unknown hash as an internal error "tx (HASH) not found"; it is an answer, not a failure.
            return null;
        }
        return Read("tx", result, Tx);
    }

    /// <summary>
    /// Committed transactions matching <paramref name="query"/> (CometBFT syntax, e.g. <c>transfer.sender='aitbc1…'</c>
    /// or <c>tx.height&gt;5</c>), one page at a time.
    /// </summary>
    public async Task<TxSearchResult> SearchTxsAsync(string query, int page = 1, int perPage = 30, bool descending = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        var parameters = new JsonObject
        {
            ["query"] = query,
            ["page"] = page.ToString(CultureInfo.InvariantCulture),
            ["per_page"] = perPage.ToString(CultureInfo.InvariantCulture),
            ["order_by"] = descending ? "desc" : "asc",
        };
        return Read("tx_search", await CallAsync("tx_search", parameters, cancellationToken).ConfigureAwait(false), r => new TxSearchResult(
            [.. Items(r, "txs").Select(Tx)],
            Long(r, "total_count")));
    }

    // ---------------- ledger (abci_query) ----------------

    /// <summary>An account; one the ledger never saw reads as zero balance, nonce 0.</summary>
    public async Task<AccountInfo> GetAccountAsync(Address address, CancellationToken cancellationToken = default)
    {
        var path = $"/account/{address.Value}";
        var wire = await QueryAsync<AccountWire>(path, cancellationToken).ConfigureAwait(false)
            ?? throw new NodeProtocolException(NodeUrl, "abci_query", $"{path} answered no account");
        var allowances = new Dictionary<Address, Amount>();
        foreach (var (spender, amount) in wire.Allowances)
        {
            allowances[Address.TryParse(spender, out var a) ? a : throw new NodeProtocolException(NodeUrl, "abci_query", $"allowance spender '{spender}' is not an address")] = amount;
        }
        return new AccountInfo(wire.Address, wire.Balance, wire.Nonce, allowances, wire.Stake);
    }

    /// <summary>A job's escrow; null when no submit_job opened one for <paramref name="jobId"/>.</summary>
    public Task<EscrowInfo?> GetEscrowAsync(string jobId, CancellationToken cancellationToken = default) =>
        QueryAsync<EscrowInfo>($"/job/{Uri.EscapeDataString(jobId)}", cancellationToken, TxCode.UnknownJob);

    /// <summary>A receipt recorded on chain; null when none has <paramref name="receiptId"/>.</summary>
    public Task<ChainReceipt?> GetReceiptAsync(string receiptId, CancellationToken cancellationToken = default) =>
        QueryAsync<ChainReceipt>($"/receipt/{Uri.EscapeDataString(receiptId)}", cancellationToken, TxCode.UnknownJob);

    /// <summary>A registered miner; null when <paramref name="address"/> never registered.</summary>
    public Task<MinerInfo?> GetMinerAsync(Address address, CancellationToken cancellationToken = default) =>
        QueryAsync<MinerInfo>($"/miner/{address.Value}", cancellationToken, TxCode.UnknownMiner);

    public async Task<IReadOnlyList<MinerInfo>> GetMinersAsync(CancellationToken cancellationToken = default) =>
        await QueryAsync<List<MinerInfo>>("/miners", cancellationToken).ConfigureAwait(false) ?? [];

    /// <summary>Total supply from genesis against the sum of balances, escrow and stake.</summary>
    public async Task<SupplyInfo> GetSupplyAsync(CancellationToken cancellationToken = default) =>
        await QueryAsync<SupplyInfo>("/supply", cancellationToken).ConfigureAwait(false)
            ?? throw new NodeProtocolException(NodeUrl, "abci_query", "/supply answered no value");

    /// <summary>Runs an <c>abci_query</c> and reads its JSON value; null for a refusal with one of <paramref name="notFound"/> codes.</summary>
    private async Task<T?> QueryAsync<T>(string path, CancellationToken cancellationToken, params TxCode[] notFound)
        where T : class
    {
        var result = await CallAsync("abci_query", new JsonObject { ["path"] = path }, cancellationToken).ConfigureAwait(false);
        var (code, log, value) = Read("abci_query", result, r =>
        {
            var response = Prop(r, "response");
            var v = response.TryGetProperty("value", out var e) && e.ValueKind == JsonValueKind.String ? Base64(e) : null;
            return ((TxCode)checked((uint)Long(response, "code")), OptStr(response, "log"), v);
        });
        if (code != TxCode.Ok)
        {
            return notFound.Contains(code) ? null : throw new NodeQueryException(path, code, log);
        }
        if (value is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(value, LedgerJson);
        }
        catch (JsonException e)
        {
            throw new NodeProtocolException(NodeUrl, "abci_query", $"{path} value is not a {typeof(T).Name}: {e.Message}", e);
        }
    }

    /// <summary>The account's JSON as the node writes it; allowances are keyed by bech32 text.</summary>
    private sealed record AccountWire(Address Address, Amount Balance, ulong Nonce, Dictionary<string, Amount> Allowances, Amount Stake);

    // ---------------- transport ----------------

    private async Task<BroadcastResult> BroadcastAsync(string method, byte[] tx, CancellationToken cancellationToken) =>
        Read(method, await CallAsync(method, TxParams(tx), cancellationToken).ConfigureAwait(false), ReadBroadcast);

    private static BroadcastResult ReadBroadcast(JsonElement r) => new(
        (TxCode)checked((uint)Long(r, "code")),
        OptStr(r, "log"),
        OptStr(r, "codespace"),
        Str(r, "hash"));

    private static JsonObject TxParams(byte[] tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        return new JsonObject { ["tx"] = Convert.ToBase64String(tx) };
    }

    private static JsonObject? HeightParams(long? height) =>
        height is { } h ? new JsonObject { ["height"] = Int64(h) } : null;

    /// <summary>CometBFT's int64 parameters travel as strings.</summary>
    private static string Int64(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Turns a result into a record; a missing or mistyped field is the node's fault, reported as such.</summary>
    private T Read<T>(string method, JsonElement result, Func<JsonElement, T> read)
    {
        try
        {
            return read(result);
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException or InvalidOperationException or KeyNotFoundException)
        {
            throw new NodeProtocolException(NodeUrl, method, e.Message, e);
        }
    }

    /// <summary>One JSON-RPC call: the <c>result</c> on success; a typed <see cref="NodeClientException"/> otherwise.</summary>
    private async Task<JsonElement> CallAsync(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _nextId),
            ["method"] = method,
            ["params"] = parameters ?? new JsonObject(),
        };
        return ParseAnswer(method, await PostAsync(method, body, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>POSTs one JSON-RPC body (a request or a batch) and returns the answer's bytes; transport and HTTP failures as <see cref="NodeClientException"/>s.</summary>
    private async Task<byte[]> PostAsync(string method, JsonNode body, CancellationToken cancellationToken)
    {
        var attempts = new AttemptCount();
        // A null URI means the BaseAddress itself, so a node behind a path prefix (https://host/rpc) works too.
        using var request = new HttpRequestMessage(HttpMethod.Post, (Uri?)null)
        {
            // ByteArrayContent can be sent again on each retry, unlike a stream.
            Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body)) { Headers = { ContentType = JsonMediaType } },
        };
        request.Options.Set(AttemptCounter.Key, attempts);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException || RetryPipeline.IsTransportFailure(e))
        {
            throw new NodeUnavailableException(NodeUrl, method, attempts.Value, RetryPipeline.DescribeTransportFailure(e), e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new NodeUnavailableException(NodeUrl, method, attempts.Value, $"no answer within {e.Timeout.TotalSeconds:0.###} s", e);
        }
        catch (TaskCanceledException e)
        {
            // HttpClient.Timeout expired (the caller's token did not fire): the node did not answer in time.
            throw new NodeUnavailableException(NodeUrl, method, attempts.Value, $"no answer within {_http.Timeout.TotalSeconds:0.###} s", e);
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var statusText = string.IsNullOrEmpty(response.ReasonPhrase) ? $"HTTP {status}" : $"HTTP {status} {response.ReasonPhrase}";
            if (status >= 500 || response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout)
            {
                throw new NodeUnavailableException(NodeUrl, method, attempts.Value, statusText);
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new NodeProtocolException(NodeUrl, method, $"{statusText} (is this a node's RPC URL?)");
            }
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private JsonDocument ParseJson(string method, byte[] bytes)
    {
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new NodeProtocolException(NodeUrl, method, $"the body is not JSON ({e.Message})", e);
        }
    }

    private JsonElement ParseAnswer(string method, byte[] bytes)
    {
        using (var document = ParseJson(method, bytes))
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new NodeProtocolException(NodeUrl, method, "the body is not a JSON-RPC answer");
            }
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var n) ? n : 0;
                throw new NodeRpcException(method, code, OptStr(error, "message"), OptStr(error, "data"));
            }
            if (!root.TryGetProperty("result", out var result))
            {
                throw new NodeProtocolException(NodeUrl, method, "the answer has neither result nor error");
            }
            return result.Clone();
        }
    }
}
