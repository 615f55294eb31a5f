using System.Text.Json;
using Aitbc.Chain;
using Aitbc.Chain.Genesis;
using Aitbc.Contracts.Node;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Rpc;

/// <summary>Who the node is and what chain it serves: <c>health</c>, <c>status</c>, <c>genesis</c>, <c>validators</c>, <c>net_info</c>.</summary>
public sealed class InfoRpcModule(Blockchain chain, NodeIdentity identity, Func<bool> catchingUp) : IRpcModule
{
    /// <summary>The voting power of the chain's single validator.</summary>
    private const long Power = 10;

    public ResultHealth health() => new();

    public ResultStatus status()
    {
        var status = chain.Status;
        var validator = chain.Genesis.Validator;
        var earliest = status.Height > 0 ? chain.Store.GetBlockMetas(1, 1).FirstOrDefault() : default;
        return new ResultStatus(
            new CometNodeInfo(
                new CometProtocolVersion(CometJson.P2pProtocol, CometJson.BlockProtocol, CometJson.AppProtocol),
                identity.NodeId,
                identity.ListenAddress,
                chain.Genesis.ChainId,
                CometJson.Version,
                "",
                identity.Moniker,
                new CometNodeInfoOther("on", identity.ListenAddress)),
            new CometSyncInfo(
                status.LastBlockHash,
                status.AppHash,
                status.Height,
                status.LastBlockTime,
                earliest.Hash ?? status.GenesisHash,
                earliest.Header?.AppHash ?? status.AppHash,
                earliest.Header is null ? 0 : 1,
                earliest.Header?.Time ?? chain.Genesis.GenesisTime,
                catchingUp()),
            new CometValidatorInfo(validator.HexAddress, CometPubKey.Ed25519(validator.Base64), chain.IsValidator ? Power : 0));
    }

    public ResultGenesis genesis()
    {
        var genesis = chain.Genesis;
        var validator = genesis.Validator;
        return new ResultGenesis(new CometGenesisDoc(
            genesis.GenesisTime,
            genesis.ChainId,
            1,
            ConsensusParams(genesis),
            [new CometGenesisValidator(validator.HexAddress, CometPubKey.Ed25519(validator.Base64), Power, Power, "validator")],
            "",
            JsonSerializer.SerializeToElement(genesis, WireJson.Options)));
    }

    /// <summary>max_bytes bounds a block of max_block_txs of the largest transactions; the rest are CometBFT's defaults.</summary>
    private static CometConsensusParams ConsensusParams(GenesisDocument genesis) => new(
        new CometBlockParams((long)genesis.MaxBlockTxs * SignedTransaction.MaxWireBytes, -1),
        new CometEvidenceParams(100_000, 172_800_000_000_000, 1_048_576),
        new CometValidatorParams(["ed25519"]),
        new CometVersionParams(CometJson.AppProtocol),
        new CometAbciParams(0));

    public ResultValidators validators(long? height)
    {
        var tip = chain.Status.Height;
        var at = height ?? tip;
        if (at < 0 || at > tip)
        {
            throw RpcException.Internal($"height {at} must be less than or equal to the current blockchain height {tip}");
        }
        var validator = chain.Genesis.Validator;
        return new ResultValidators(at, [new CometValidator(validator.HexAddress, CometPubKey.Ed25519(validator.Base64), Power, 0)], 1, 1);
    }

    public ResultNetInfo net_info() => new(true, [identity.ListenAddress], 0, []);
}
