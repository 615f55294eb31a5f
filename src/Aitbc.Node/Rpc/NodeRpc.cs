using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization.Metadata;
using Aitbc.Chain;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;

namespace Aitbc.Node.Rpc;

/// <summary>
/// The CometBFT v0.38 RPC over one chain: its modules' methods by wire name, each answering a contract record written
/// through <see cref="ContractJson.Server"/>.
/// </summary>
public sealed class NodeRpc
{
    private readonly MempoolRpcModule _mempool;
    private readonly RpcRegistry _registry;
    private readonly JsonTypeInfo _broadcastResult;

    public NodeRpc(Blockchain chain, NodeIdentity identity, IBroadcastForwarder? forwarder = null, Func<bool>? catchingUp = null)
    {
        _mempool = new MempoolRpcModule(chain, forwarder);
        _registry = new RpcRegistry(
            [
                new InfoRpcModule(chain, identity, catchingUp ?? (() => false)),
                new AbciRpcModule(chain),
                new BlocksRpcModule(chain),
                new TxRpcModule(chain),
                _mempool,
            ],
            ContractJson.Server);
        _broadcastResult = ContractJson.Server.GetTypeInfo(typeof(ResultBroadcastTx));
    }

    public IReadOnlyCollection<string> Methods => _registry.Names;

    public bool TryGetMethod(string name, [MaybeNullWhen(false)] out RpcMethod method) => _registry.TryGet(name, out method);

    /// <summary>Admits a batch of broadcasts in one go (<see cref="MempoolRpcModule"/>); null when the batch is not only those.</summary>
    public IReadOnlyList<RpcAnswer>? TryAdmitBroadcastBatch(IReadOnlyList<RpcCall> batch) =>
        _mempool.TryAdmitBatch(batch)?.Select(r => RpcAnswer.Ok(r, _broadcastResult)).ToList();
}
