using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Client.Http;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;
using Aitbc.Core.Transactions;
using Microsoft.Extensions.Http.Resilience;
using Polly.Timeout;

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

    /// <summary>
    /// For the ledger's documents inside abci_query values (escrows, receipts, miners): the client options, except that
    /// every constructor parameter without a default must be there.
    /// </summary>
    private static readonly JsonSerializerOptions LedgerJson = new(ContractJson.Client) { RespectRequiredConstructorParameters = true };

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
        await CallAsync<ResultHealth>("health", null, cancellationToken).ConfigureAwait(false);

    public async Task<NodeStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        var status = await CallAsync<ResultStatus>("status", null, cancellationToken).ConfigureAwait(false);
        var (node, sync, validator) = (status.NodeInfo, status.SyncInfo, status.ValidatorInfo);
        return Map("status", () => new NodeStatus(
            node.Network,
            node.Id,
            node.Moniker,
            node.Version,
            sync.LatestBlockHeight,
            sync.LatestBlockHash,
            sync.LatestAppHash,
            Time("latest_block_time", sync.LatestBlockTime),
            sync.EarliestBlockHeight,
            sync.CatchingUp,
            validator.Address,
            validator.VotingPower));
    }

    public async Task<GenesisInfo> GetGenesisAsync(CancellationToken cancellationToken = default)
    {
        var genesis = (await CallAsync<ResultGenesis>("genesis", null, cancellationToken).ConfigureAwait(false)).Genesis;
        return Map("genesis", () => new GenesisInfo(
            genesis.ChainId,
            Time("genesis_time", genesis.GenesisTime),
            genesis.InitialHeight,
            [.. genesis.Validators.Select(v => Validator(v.Address, v.PubKey, v.VotingPower, 0))],
            genesis.AppState));
    }

    /// <summary>
    /// The coordinators the chain accepts: the addresses its genesis names, the only senders whose submit_job,
    /// record_receipt and refund_job it executes.
    /// </summary>
    public async Task<IReadOnlyList<Address>> GetCoordinatorsAsync(CancellationToken cancellationToken = default)
    {
        var appState = (await GetGenesisAsync(cancellationToken).ConfigureAwait(false)).AppState;
        if (appState.ValueKind != JsonValueKind.Object || !appState.TryGetProperty("coordinators", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new NodeProtocolException(NodeUrl, "genesis", "app_state has no coordinators array");
        }
        var coordinators = new List<Address>();
        foreach (var entry in list.EnumerateArray())
        {
            coordinators.Add(entry.ValueKind == JsonValueKind.String && Address.TryParse(entry.GetString(), out var address)
                ? address
                : throw new NodeProtocolException(NodeUrl, "genesis", $"app_state coordinator {entry.GetRawText()} is not an aitbc1… address"));
        }
        return coordinators;
    }

    /// <summary>The validator set at <paramref name="height"/> (the latest when null).</summary>
    public async Task<ValidatorSet> GetValidatorsAsync(long? height = null, CancellationToken cancellationToken = default)
    {
        var set = await CallAsync<ResultValidators>("validators", HeightParams(height), cancellationToken).ConfigureAwait(false);
        return Map("validators", () => new ValidatorSet(
            set.BlockHeight,
            [.. (set.Validators ?? []).Select(v => Validator(v.Address, v.PubKey, v.VotingPower, v.ProposerPriority))],
            set.Total));
    }

    /// <summary>How many transactions wait in the mempool, and their bytes.</summary>
    public async Task<MempoolInfo> NumUnconfirmedTxsAsync(CancellationToken cancellationToken = default)
    {
        var mempool = await CallAsync<ResultUnconfirmedTxs>("num_unconfirmed_txs", null, cancellationToken).ConfigureAwait(false);
        return new MempoolInfo(mempool.NTxs, mempool.Total, mempool.TotalBytes);
    }

    // ---------------- blocks ----------------

    /// <summary>The block at <paramref name="height"/>, or the latest when null; a height above the tip is a <see cref="NodeRpcException"/>.</summary>
    public async Task<BlockInfo> GetBlockAsync(long? height = null, CancellationToken cancellationToken = default)
    {
        var result = await CallAsync<ResultBlock>("block", HeightParams(height), cancellationToken).ConfigureAwait(false);
        return new BlockInfo(result.BlockId.Hash, result.Block.Header.ToBlockHeader(), result.Block.Data.Txs ?? []);
    }

    public async Task<BlockResults> GetBlockResultsAsync(long? height = null, CancellationToken cancellationToken = default)
    {
        var results = await CallAsync<ResultBlockResults>("block_results", HeightParams(height), cancellationToken).ConfigureAwait(false);
        return new BlockResults(results.Height, [.. (results.TxsResults ?? []).Select(TxResult)], results.AppHash);
    }

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
        var chain = await CallAsync<ResultBlockchainInfo>("blockchain", parameters, cancellationToken).ConfigureAwait(false);
        return new BlockchainInfo(
            chain.LastHeight,
            [.. (chain.BlockMetas ?? []).Select(m => new BlockMeta(m.BlockId.Hash, m.Header.ToBlockHeader(), m.NumTxs))]);
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
                Answer<ResultBroadcastTx>(method, document.RootElement);
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
                try
                {
                    results[id - firstId] = new BatchBroadcastResult(Broadcast(Answer<ResultBroadcastTx>(method, answer)), null);
                }
                catch (NodeRpcException e)
                {
                    results[id - firstId] = new BatchBroadcastResult(null, e.Message);
                }
            }
            return [.. results.Select(r => r ?? throw new NodeProtocolException(NodeUrl, method, "a batch answer is missing a call"))];
        }
    }

    /// <summary>Submits <paramref name="tx"/>; CometBFT answers before CheckTx, our node after it, so read the code either way.</summary>
    public Task<BroadcastResult> BroadcastTxAsyncAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        BroadcastAsync("broadcast_tx_async", tx, cancellationToken);

    /// <summary>Submits <paramref name="tx"/> and waits for the block that executes it (or for CheckTx's refusal).</summary>
    public async Task<CommitResult> BroadcastTxCommitAsync(byte[] tx, CancellationToken cancellationToken = default)
    {
        var result = await CallAsync<ResultBroadcastTxCommit>("broadcast_tx_commit", TxParams(tx), cancellationToken).ConfigureAwait(false);
        return new CommitResult(TxResult(result.CheckTx), TxResult(result.TxResult), result.Hash, result.Height);
    }

    /// <summary>Runs CheckTx on <paramref name="tx"/> without adding it to the mempool.</summary>
    public async Task<ExecTxResult> CheckTxAsync(byte[] tx, CancellationToken cancellationToken = default) =>
        TxResult(await CallAsync<CometExecTxResult>("check_tx", TxParams(tx), cancellationToken).ConfigureAwait(false));

    /// <summary>A committed transaction by its hash (64 hex digits); null when the node has none by that hash.</summary>
    public async Task<TxInfo?> GetTxAsync(string hash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hash);
        if (hash.Length != 64 || !hash.All(Uri.IsHexDigit))
        {
            throw new ArgumentException("a transaction hash is 64 hex digits", nameof(hash));
        }
        try
        {
            // Base64 of the hash bytes, as @cosmjs/tendermint-rpc sends it: what any CometBFT node accepts.
            return Tx(await CallAsync<ResultTx>("tx", new JsonObject { ["hash"] = Convert.ToBase64String(Convert.FromHexString(hash)) }, cancellationToken).ConfigureAwait(false));
        }
        catch (NodeRpcException e) when (e.ErrorData?.Contains("not found", StringComparison.OrdinalIgnoreCase) == true)
        {
            // CometBFT reports an unknown hash as an internal error "tx (HASH) not found"; it is an answer, not a failure.
            return null;
        }
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
        var found = await CallAsync<ResultTxSearch>("tx_search", parameters, cancellationToken).ConfigureAwait(false);
        return new TxSearchResult([.. (found.Txs ?? []).Select(Tx)], found.TotalCount);
    }

    // ---------------- ledger (abci_query) ----------------

    /// <summary>An account; one the ledger never saw reads as zero balance, nonce 0.</summary>
    public async Task<AccountInfo> GetAccountAsync(Address address, CancellationToken cancellationToken = default)
    {
        var path = $"/account/{address.Value}";
        var account = await QueryAsync<LedgerAccount>(path, cancellationToken).ConfigureAwait(false)
            ?? throw new NodeProtocolException(NodeUrl, "abci_query", $"{path} answered no account");
        var allowances = new Dictionary<Address, Amount>();
        foreach (var (spender, amount) in account.Allowances)
        {
            allowances[Address.TryParse(spender, out var a) ? a : throw new NodeProtocolException(NodeUrl, "abci_query", $"allowance spender '{spender}' is not an address")] = amount;
        }
        return new AccountInfo(account.Address, account.Balance, account.Nonce, allowances, account.Stake);
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
    public async Task<SupplyInfo> GetSupplyAsync(CancellationToken cancellationToken = default)
    {
        var supply = await QueryAsync<LedgerSupply>("/supply", cancellationToken).ConfigureAwait(false)
            ?? throw new NodeProtocolException(NodeUrl, "abci_query", "/supply answered no value");
        return new SupplyInfo(supply.TotalSupply, supply.Counted, supply.Height);
    }

    /// <summary>Runs an <c>abci_query</c> and reads its JSON value; null for a refusal with one of <paramref name="notFound"/> codes.</summary>
    private async Task<T?> QueryAsync<T>(string path, CancellationToken cancellationToken, params TxCode[] notFound)
        where T : class
    {
        var response = (await CallAsync<ResultAbciQuery>("abci_query", new JsonObject { ["path"] = path }, cancellationToken).ConfigureAwait(false)).Response;
        var code = (TxCode)response.Code;
        if (code != TxCode.Ok)
        {
            return notFound.Contains(code) ? null : throw new NodeQueryException(path, code, response.Log);
        }
        if (response.Value is null)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<T>(response.Value, LedgerJson);
        }
        catch (JsonException e)
        {
            throw new NodeProtocolException(NodeUrl, "abci_query", $"{path} value is not a {typeof(T).Name}: {Describe(e)}", e);
        }
    }

    // ---------------- results to records ----------------

    private static ExecTxResult TxResult(CometExecTxResult r) => new(
        (TxCode)r.Code,
        r.Log,
        r.Info,
        r.Codespace,
        [.. (r.Events ?? []).Select(e => new AbciEvent(e.Type, [.. (e.Attributes ?? []).Select(a => new AbciEventAttribute(a.Key, a.Value, a.Index))]))]);

    private static TxInfo Tx(ResultTx t) => new(t.Hash, t.Height, t.Index, TxResult(t.TxResult), t.Tx);

    private static BroadcastResult Broadcast(ResultBroadcastTx r) => new((TxCode)r.Code, r.Log, r.Codespace, r.Hash);

    private static ValidatorInfo Validator(string address, CometPubKey key, long votingPower, long proposerPriority) => new(
        address,
        Ed25519PublicKey.TryParse(key.Value, out var parsed) ? parsed : throw new FormatException("'pub_key.value' must be an Ed25519 key in base64"),
        votingPower,
        proposerPriority);

    private static DateTimeOffset Time(string name, string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t)
            ? t
            : throw new FormatException($"'{name}' must be an RFC 3339 time");

    /// <summary>Builds a record from a result whose fields the contract cannot check (times, keys); a bad one is the node's fault.</summary>
    private T Map<T>(string method, Func<T> map)
    {
        try
        {
            return map();
        }
        catch (FormatException e)
        {
            throw new NodeProtocolException(NodeUrl, method, e.Message, e);
        }
    }

    // ---------------- transport ----------------

    private async Task<BroadcastResult> BroadcastAsync(string method, byte[] tx, CancellationToken cancellationToken) =>
        Broadcast(await CallAsync<ResultBroadcastTx>(method, TxParams(tx), cancellationToken).ConfigureAwait(false));

    private static JsonObject TxParams(byte[] tx)
    {
        ArgumentNullException.ThrowIfNull(tx);
        return new JsonObject { ["tx"] = Convert.ToBase64String(tx) };
    }

    private static JsonObject? HeightParams(long? height) =>
        height is { } h ? new JsonObject { ["height"] = Int64(h) } : null;

    /// <summary>CometBFT's int64 parameters travel as strings.</summary>
    private static string Int64(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>One JSON-RPC call: its <c>result</c> as the contract record <typeparamref name="T"/>; a typed <see cref="NodeClientException"/> otherwise.</summary>
    private async Task<T> CallAsync<T>(string method, JsonObject? parameters, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = Interlocked.Increment(ref _nextId),
            ["method"] = method,
            ["params"] = parameters ?? new JsonObject(),
        };
        var bytes = await PostAsync(method, body, cancellationToken).ConfigureAwait(false);
        using var document = ParseJson(method, bytes);
        return Answer<T>(method, document.RootElement);
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

    /// <summary>
    /// One JSON-RPC answer: its <c>result</c> read through the contracts' client options (a missing or mistyped member
    /// is the node's fault, a <see cref="NodeProtocolException"/>), or its <c>error</c> as a <see cref="NodeRpcException"/>.
    /// </summary>
    private T Answer<T>(string method, JsonElement answer)
    {
        if (answer.ValueKind != JsonValueKind.Object)
        {
            throw new NodeProtocolException(NodeUrl, method, "the body is not a JSON-RPC answer");
        }
        try
        {
            if (answer.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var rpcError = error.Deserialize<JsonRpcError>(ContractJson.Client)!;
                throw new NodeRpcException(method, rpcError.Code, rpcError.Message ?? "", rpcError.Data ?? "");
            }
            if (!answer.TryGetProperty("result", out var result))
            {
                throw new NodeProtocolException(NodeUrl, method, "the answer has neither result nor error");
            }
            return result.Deserialize<T>(ContractJson.Client) ?? throw new JsonException($"the result is null, not a {typeof(T).Name}");
        }
        catch (JsonException e)
        {
            throw new NodeProtocolException(NodeUrl, method, Describe(e), e);
        }
    }

    /// <summary>The serializer's reason, with where in the answer it is when the reason does not say (a missing member).</summary>
    private static string Describe(JsonException e) =>
        e.Path is { } path && !e.Message.Contains("Path: ", StringComparison.Ordinal) ? $"{e.Message} (at {path})" : e.Message;
}
