using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Chain;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Core;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Rpc;

/// <summary>Who this node is, for <c>status</c> and <c>net_info</c>.</summary>
public sealed record NodeIdentity(string NodeId, string Moniker, string ListenAddress);

/// <summary>Sends broadcasts to the validator when this node is a follower; answers with the validator's result.</summary>
public interface IBroadcastForwarder
{
    Task<JsonNode> ForwardAsync(string method, JsonObject parameters, CancellationToken cancellationToken);
}

/// <summary>The CometBFT v0.38 RPC methods over one chain; method names are the wire names.</summary>
public sealed class NodeRpc
{
    private const int MaxBlockchainRange = 20;
    private readonly Blockchain _chain;
    private readonly NodeIdentity _identity;
    private readonly IBroadcastForwarder? _forwarder;
    private readonly Func<bool> _catchingUp;
    private readonly Dictionary<string, Func<RpcParams, CancellationToken, Task<JsonNode>>> _methods;

    public NodeRpc(Blockchain chain, NodeIdentity identity, IBroadcastForwarder? forwarder = null, Func<bool>? catchingUp = null)
    {
        _chain = chain;
        _identity = identity;
        _forwarder = forwarder;
        _catchingUp = catchingUp ?? (() => false);
        _methods = new(StringComparer.Ordinal)
        {
            ["health"] = (_, _) => Done(new JsonObject()),
            ["status"] = (_, _) => Done(Status()),
            ["genesis"] = (_, _) => Done(GenesisView()),
            ["validators"] = (p, _) => Done(Validators(p)),
            ["net_info"] = (_, _) => Done(NetInfo()),
            ["abci_info"] = (_, _) => Done(AbciInfo()),
            ["abci_query"] = (p, _) => Done(AbciQuery(p)),
            ["block"] = (p, _) => Done(BlockAt(p)),
            ["block_results"] = (p, _) => Done(BlockResults(p)),
            ["blockchain"] = (p, _) => Done(Blockchain(p)),
            ["header"] = (p, _) => Done(new JsonObject { ["header"] = CometJson.Header(LoadBlock(HeightParam(p)).Header) }),
            ["commit"] = (p, _) => Done(Commit(p)),
            ["tx"] = (p, _) => Done(Tx(p)),
            ["tx_search"] = (p, _) => Done(TxSearch(p)),
            ["broadcast_tx_sync"] = (p, ct) => BroadcastSync("broadcast_tx_sync", p, ct),
            ["broadcast_tx_async"] = (p, ct) => BroadcastSync("broadcast_tx_async", p, ct),
            ["broadcast_tx_commit"] = BroadcastCommit,
            ["check_tx"] = (p, _) => Done(CometJson.TxResult(_chain.CheckTx(TxParam(p), addToMempool: false).Result)),
            ["unconfirmed_txs"] = (p, _) => Done(UnconfirmedTxs(p, includeTxs: true)),
            ["num_unconfirmed_txs"] = (p, _) => Done(UnconfirmedTxs(p, includeTxs: false)),
        };
    }

    public IReadOnlyCollection<string> Methods => _methods.Keys;

    public bool TryGetMethod(string name, out Func<RpcParams, CancellationToken, Task<JsonNode>> method) =>
        _methods.TryGetValue(name, out method!);

    private static Task<JsonNode> Done(JsonNode node) => Task.FromResult(node);

    private JsonObject Status()
    {
        var status = _chain.Status;
        var validator = _chain.Genesis.Validator;
        var earliest = status.Height > 0 ? _chain.Store.GetBlockMetas(1, 1).FirstOrDefault() : default;
        return new JsonObject
        {
            ["node_info"] = new JsonObject
            {
                ["protocol_version"] = new JsonObject { ["p2p"] = "8", ["block"] = CometJson.BlockProtocol, ["app"] = "1" },
                ["id"] = _identity.NodeId,
                ["listen_addr"] = _identity.ListenAddress,
                ["network"] = _chain.Genesis.ChainId,
                ["version"] = CometJson.Version,
                ["channels"] = "",
                ["moniker"] = _identity.Moniker,
                ["other"] = new JsonObject { ["tx_index"] = "on", ["rpc_address"] = _identity.ListenAddress },
            },
            ["sync_info"] = new JsonObject
            {
                ["latest_block_hash"] = status.LastBlockHash,
                ["latest_app_hash"] = status.AppHash,
                ["latest_block_height"] = CometJson.Int(status.Height),
                ["latest_block_time"] = status.LastBlockTime,
                ["earliest_block_hash"] = earliest.Hash ?? status.GenesisHash,
                ["earliest_app_hash"] = earliest.Header?.AppHash ?? status.AppHash,
                ["earliest_block_height"] = earliest.Header is null ? "0" : "1",
                ["earliest_block_time"] = earliest.Header?.Time ?? _chain.Genesis.GenesisTime,
                ["catching_up"] = _catchingUp(),
            },
            ["validator_info"] = new JsonObject
            {
                ["address"] = validator.HexAddress,
                ["pub_key"] = new JsonObject { ["type"] = CometJson.PubKeyType, ["value"] = validator.Base64 },
                ["voting_power"] = _chain.IsValidator ? "10" : "0",
            },
        };
    }

    private JsonObject GenesisView()
    {
        var genesis = _chain.Genesis;
        return new JsonObject
        {
            ["genesis"] = new JsonObject
            {
                ["genesis_time"] = genesis.GenesisTime,
                ["chain_id"] = genesis.ChainId,
                ["initial_height"] = "1",
                ["consensus_params"] = ConsensusParams(genesis.MaxBlockTxs),
                ["validators"] = new JsonArray(ValidatorNode(proposerPriority: false)),
                ["app_hash"] = "",
                ["app_state"] = CometJson.ToNode(genesis),
            },
        };
    }

    /// <summary>
    /// CometBFT's consensus_params object; @cosmjs/tendermint-rpc's genesis decoder reads <c>consensus_params.block</c>
    /// unconditionally, so genesis cannot be decoded without it. max_bytes bounds a block of max_block_txs largest txs.
    /// </summary>
    private static JsonObject ConsensusParams(int maxBlockTxs) => new()
    {
        ["block"] = new JsonObject
        {
            ["max_bytes"] = CometJson.Int((long)maxBlockTxs * SignedTransaction.MaxWireBytes),
            ["max_gas"] = "-1",
        },
        ["evidence"] = new JsonObject
        {
            ["max_age_num_blocks"] = "100000",
            ["max_age_duration"] = "172800000000000",
            ["max_bytes"] = "1048576",
        },
        ["validator"] = new JsonObject { ["pub_key_types"] = new JsonArray("ed25519") },
        ["version"] = new JsonObject { ["app"] = "1" },
        ["abci"] = new JsonObject { ["vote_extensions_enable_height"] = "0" },
    };

    private JsonObject ValidatorNode(bool proposerPriority)
    {
        var validator = _chain.Genesis.Validator;
        var node = new JsonObject
        {
            ["address"] = validator.HexAddress,
            ["pub_key"] = new JsonObject { ["type"] = CometJson.PubKeyType, ["value"] = validator.Base64 },
            ["power"] = "10",
            ["voting_power"] = "10",
            ["name"] = "validator",
        };
        if (proposerPriority)
        {
            node.Remove("power");
            node.Remove("name");
            node["proposer_priority"] = "0";
        }
        return node;
    }

    private JsonObject Validators(RpcParams p)
    {
        var height = p.GetInt64("height") ?? _chain.Status.Height;
        if (height < 0 || height > _chain.Status.Height)
        {
            throw RpcException.Internal($"height {height} must be less than or equal to the current blockchain height {_chain.Status.Height}");
        }
        return new JsonObject
        {
            ["block_height"] = CometJson.Int(height),
            ["validators"] = new JsonArray(ValidatorNode(proposerPriority: true)),
            ["count"] = "1",
            ["total"] = "1",
        };
    }

    private JsonObject NetInfo() => new()
    {
        ["listening"] = true,
        ["listeners"] = new JsonArray(_identity.ListenAddress),
        ["n_peers"] = "0",
        ["peers"] = new JsonArray(),
    };

    private JsonObject AbciInfo()
    {
        var status = _chain.Status;
        return new JsonObject
        {
            ["response"] = new JsonObject
            {
                ["data"] = "aitbc",
                ["version"] = typeof(NodeRpc).Assembly.GetName().Version?.ToString() ?? "1.0.0",
                ["app_version"] = "1",
                ["last_block_height"] = CometJson.Int(status.Height),
                ["last_block_app_hash"] = Convert.ToBase64String(Convert.FromHexString(status.AppHash)),
            },
        };
    }

    private JsonObject AbciQuery(RpcParams p)
    {
        var path = p.GetString("path") ?? throw RpcException.InvalidParams("path is required");
        var height = _chain.Status.Height;
        var requested = p.GetInt64("height");
        if (requested is > 0 && requested != height)
        {
            return QueryAnswer(TxCode.InvalidField, "only the latest height can be queried", null, height);
        }
        var (code, log, value) = Query(path);
        return QueryAnswer(code, log, value, height);
    }

    private static JsonObject QueryAnswer(TxCode code, string log, byte[]? value, long height) => new()
    {
        ["response"] = new JsonObject
        {
            ["code"] = (uint)code,
            ["log"] = log,
            ["info"] = "",
            ["index"] = "0",
            ["key"] = null,
            ["value"] = value is null ? null : Convert.ToBase64String(value),
            ["proofOps"] = null,
            ["height"] = CometJson.Int(height),
            ["codespace"] = code == TxCode.Ok ? "" : "aitbc",
        },
    };

    private (TxCode Code, string Log, byte[]? Value) Query(string path)
    {
        var parts = path.Trim('/').Split('/', 2);
        var kind = parts[0];
        var id = parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "";
        switch (kind)
        {
            case "account":
                {
                    if (!Address.TryParse(id, out var address))
                    {
                        return (TxCode.InvalidField, $"'{id}' is not an aitbc1… address", null);
                    }
                    var view = _chain.Read(s => (Account: s.GetAccount(address), Miner: s.GetMiner(address)));
                    return Found(new
                    {
                        address = address.Value,
                        balance = view.Account.Balance,
                        nonce = view.Account.Nonce,
                        allowances = view.Account.Allowances.ToDictionary(kv => kv.Key, kv => kv.Value.ToMicroString()),
                        stake = view.Miner?.Stake ?? Amount.Zero,
                    });
                }
            case "job":
                return _chain.Read(s => s.GetEscrow(id)) is { } escrow ? Found(escrow) : (TxCode.UnknownJob, $"job {id} not found", null);
            case "receipt":
                return _chain.Read(s => s.GetReceipt(id)) is { } receipt ? Found(receipt) : (TxCode.UnknownJob, $"receipt {id} not found", null);
            case "miner":
                return Address.TryParse(id, out var minerAddress) && _chain.Read(s => s.GetMiner(minerAddress)) is { } miner
                    ? Found(miner)
                    : (TxCode.UnknownMiner, $"miner {id} not found", null);
            case "miners" when parts.Length == 1:
                return Found(_chain.Miners());
            case "supply" when parts.Length == 1:
                return Found(new { total_supply = _chain.Genesis.TotalSupply, counted = _chain.ComputeSupply(), height = _chain.Status.Height });
            default:
                return (TxCode.InvalidField, $"unknown query path '{path}' (known: /account/{{address}}, /job/{{id}}, /receipt/{{id}}, /miner/{{address}}, /miners, /supply)", null);
        }

        static (TxCode, string, byte[]?) Found<T>(T value) => (TxCode.Ok, "", JsonSerializer.SerializeToUtf8Bytes(value, WireJson.Options));
    }

    private long HeightParam(RpcParams p)
    {
        var latest = _chain.Status.Height;
        var height = p.GetInt64("height") ?? latest;
        if (height <= 0)
        {
            throw RpcException.Internal($"height must be greater than 0, but got {height}");
        }
        if (height > latest)
        {
            throw RpcException.Internal($"height {height} must be less than or equal to the current blockchain height {latest}");
        }
        return height;
    }

    private Block LoadBlock(long height) =>
        _chain.Store.GetBlock(height)?.Block ?? throw RpcException.Internal($"block at height {height} not found");

    private JsonObject BlockAt(RpcParams p)
    {
        if (_chain.Status.Height == 0 && p.GetInt64("height") is null)
        {
            throw RpcException.Internal("no blocks yet: the chain is at genesis");
        }
        var block = LoadBlock(HeightParam(p));
        var previous = block.Height > 1 ? LoadBlock(block.Height - 1) : null;
        return new JsonObject { ["block_id"] = CometJson.BlockId(block.Hash), ["block"] = CometJson.Block(block, previous) };
    }

    private JsonObject BlockResults(RpcParams p)
    {
        var height = HeightParam(p);
        var stored = _chain.Store.GetBlock(height) ?? throw RpcException.Internal($"block at height {height} not found");
        var txs = _chain.Store.GetBlockTxs(height);
        return new JsonObject
        {
            ["height"] = CometJson.Int(height),
            ["txs_results"] = txs.Count == 0 ? null : new JsonArray([.. txs.Select(t => (JsonNode)CometJson.TxResult(t.Result))]),
            ["finalize_block_events"] = new JsonArray(),
            ["validator_updates"] = null,
            ["consensus_param_updates"] = null,
            ["app_hash"] = stored.ResultAppHash,
        };
    }

    private JsonObject Blockchain(RpcParams p)
    {
        var latest = _chain.Status.Height;
        var max = Math.Min(p.GetInt64("maxHeight") is { } mx and > 0 ? mx : latest, latest);
        var min = p.GetInt64("minHeight") is { } mn and > 0 ? mn : 1;
        if (min > max && latest > 0)
        {
            throw RpcException.Internal($"min height {min} can't be greater than max height {max}");
        }
        min = Math.Max(min, max - MaxBlockchainRange + 1);
        var metas = latest == 0 ? [] : _chain.Store.GetBlockMetas(min, max);
        return new JsonObject
        {
            ["last_height"] = CometJson.Int(latest),
            ["block_metas"] = new JsonArray([.. metas.Select(m => (JsonNode)new JsonObject
            {
                ["block_id"] = CometJson.BlockId(m.Hash),
                ["block_size"] = "0",
                ["header"] = CometJson.Header(m.Header),
                ["num_txs"] = CometJson.Int(m.NumTxs),
            })]),
        };
    }

    private JsonObject Commit(RpcParams p)
    {
        var block = LoadBlock(HeightParam(p));
        return new JsonObject
        {
            ["signed_header"] = new JsonObject { ["header"] = CometJson.Header(block.Header), ["commit"] = CometJson.Commit(block) },
            ["canonical"] = true,
        };
    }

    private JsonObject Tx(RpcParams p)
    {
        var hash = p.GetHash("hash") ?? throw RpcException.InvalidParams("hash is required");
        var tx = _chain.Store.GetTx(hash) ?? throw RpcException.Internal($"tx ({hash}) not found");
        return CometJson.Tx(tx);
    }

    private JsonObject TxSearch(RpcParams p)
    {
        var conditions = TxQuery.Parse(p.GetString("query") ?? "");
        var perPage = (int)Math.Clamp(p.GetInt64("per_page") ?? 30, 1, 100);
        var page = p.GetInt64("page") ?? 1;
        if (page < 1)
        {
            throw RpcException.InvalidParams("page must be at least 1");
        }
        var order = p.GetString("order_by") ?? "asc";
        if (order is not ("asc" or "desc" or ""))
        {
            throw RpcException.InvalidParams("order_by must be asc or desc");
        }
        var (txs, total) = _chain.Store.SearchTxs(conditions, (int)Math.Min(page, int.MaxValue / perPage), perPage, order == "desc");
        return new JsonObject
        {
            ["txs"] = new JsonArray([.. txs.Select(t => (JsonNode)CometJson.Tx(t))]),
            ["total_count"] = CometJson.Int(total),
        };
    }

    private static byte[] TxParam(RpcParams p) =>
        p.GetBytes("tx") is { Length: > 0 } tx ? tx : throw RpcException.InvalidParams("tx is required (base64 of the transaction bytes)");

    /// <summary>
    /// A JSON-RPC batch made only of broadcast_tx_sync/async calls, each with a base64 tx, is admitted in one go
    /// (<see cref="Blockchain.CheckTxBatch"/>); anything else returns null and takes the per-call path. The endpoint
    /// has already checked each request's envelope (jsonrpc, id, method), the same way for both paths.
    /// </summary>
    public IReadOnlyList<JsonNode>? TryAdmitBroadcastBatch(IReadOnlyList<RpcCall> batch)
    {
        if (_forwarder is not null || batch.Count < 2)
        {
            return null;
        }
        var txs = new List<byte[]>(batch.Count);
        foreach (var call in batch)
        {
            if (call.Method is not ("broadcast_tx_sync" or "broadcast_tx_async"))
            {
                return null;
            }
            try
            {
                // The same reading of params as the per-call path, so both refuse the same requests.
                txs.Add(TxParam(RpcParams.FromJson(call.Params)));
            }
            catch (RpcException)
            {
                return null;
            }
        }
        return [.. _chain.CheckTxBatch(txs).Select(check => (JsonNode)BroadcastAnswer(check))];
    }

    private static JsonObject BroadcastAnswer(CheckTxResult check) => new()
    {
        ["code"] = (uint)check.Result.Code,
        ["data"] = "",
        ["log"] = check.Result.Log,
        ["codespace"] = check.IsOk ? "" : "aitbc",
        ["hash"] = check.Hash,
    };

    private async Task<JsonNode> BroadcastSync(string method, RpcParams p, CancellationToken cancellationToken)
    {
        var tx = TxParam(p);
        if (_forwarder is not null)
        {
            return await _forwarder.ForwardAsync(method, new JsonObject { ["tx"] = Convert.ToBase64String(tx) }, cancellationToken).ConfigureAwait(false);
        }
        return BroadcastAnswer(_chain.CheckTx(tx, addToMempool: true));
    }

    private async Task<JsonNode> BroadcastCommit(RpcParams p, CancellationToken cancellationToken)
    {
        var tx = TxParam(p);
        if (_forwarder is not null)
        {
            var answer = await _forwarder.ForwardAsync("broadcast_tx_commit", new JsonObject { ["tx"] = Convert.ToBase64String(tx) }, cancellationToken).ConfigureAwait(false);
            if (answer["height"]?.GetValueKind() == JsonValueKind.String
                && long.TryParse(answer["height"]!.GetValue<string>(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var committedAt)
                && committedAt > 0)
            {
                await WaitForLocalHeightAsync(committedAt, cancellationToken).ConfigureAwait(false);
            }
            return answer;
        }
        CommitTxResult result;
        try
        {
            result = await _chain.BroadcastCommitAsync(tx, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw RpcException.Internal(e.Message);
        }
        return new JsonObject
        {
            ["check_tx"] = CometJson.TxResult(result.Check.Result),
            ["tx_result"] = CometJson.TxResult(result.Deliver ?? new TxResult(TxCode.Ok, "", [])),
            ["hash"] = result.Check.Hash,
            ["height"] = CometJson.Int(result.Height),
        };
    }

    /// <summary>
    /// A follower answers a forwarded broadcast_tx_commit only once it has imported the block itself, as a CometBFT
    /// full node does: a client that reads back block/tx/abci_query at the returned height from the same node then
    /// finds it. If this node cannot get there in time (halted, far behind), the validator's answer stands.
    /// </summary>
    private async Task WaitForLocalHeightAsync(long height, CancellationToken cancellationToken)
    {
        if (_chain.Status.Height >= height)
        {
            return;
        }
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnCommit(Block block, IReadOnlyList<TxResult> results)
        {
            if (block.Height >= height)
            {
                reached.TrySetResult();
            }
        }
        _chain.BlockCommitted += OnCommit;
        try
        {
            if (_chain.Status.Height < height)
            {
                await reached.Task.WaitAsync(ForwardedCommitSyncTimeout, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (TimeoutException)
        {
        }
        finally
        {
            _chain.BlockCommitted -= OnCommit;
        }
    }

    private static readonly TimeSpan ForwardedCommitSyncTimeout = TimeSpan.FromSeconds(10);

    private JsonObject UnconfirmedTxs(RpcParams p, bool includeTxs)
    {
        var limit = (int)Math.Clamp(p.GetInt64("limit") ?? 30, 1, 100);
        var txs = includeTxs ? _chain.UnconfirmedTxs(limit) : [];
        return new JsonObject
        {
            ["n_txs"] = CometJson.Int(includeTxs ? txs.Count : _chain.MempoolCount),
            ["total"] = CometJson.Int(_chain.MempoolCount),
            ["total_bytes"] = CometJson.Int(_chain.MempoolBytes),
            ["txs"] = includeTxs ? new JsonArray([.. txs.Select(t => (JsonNode)Convert.ToBase64String(t.WireBytes))]) : null,
        };
    }

}
