using System.Text.Json;
using Aitbc.Chain;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;
using Aitbc.Core;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Node.Rpc;

/// <summary>The application's side: <c>abci_info</c>, and <c>abci_query</c> over the ledger's accounts, jobs, receipts, miners and supply.</summary>
public sealed class AbciRpcModule(Blockchain chain) : IRpcModule
{
    public ResultAbciInfo abci_info()
    {
        var status = chain.Status;
        return new ResultAbciInfo(new CometAbciInfo(
            "aitbc",
            typeof(AbciRpcModule).Assembly.GetName().Version?.ToString() ?? "1.0.0",
            CometJson.AppProtocol,
            status.Height,
            Convert.FromHexString(status.AppHash)));
    }

    /// <summary>The ledger at the latest height, by <paramref name="path"/>; a refusal is an answer with a non-zero code, not an RPC error.</summary>
    public ResultAbciQuery abci_query(string? path, long? height)
    {
        if (path is null)
        {
            throw RpcException.InvalidParams("path is required");
        }
        var latest = chain.Status.Height;
        if (height is > 0 && height != latest)
        {
            return Answer(TxCode.InvalidField, "only the latest height can be queried", null, latest);
        }
        var (code, log, value) = Query(path);
        return Answer(code, log, value, latest);
    }

    private static ResultAbciQuery Answer(TxCode code, string log, byte[]? value, long height) =>
        new(new CometAbciQueryResponse((uint)code, log, "", 0, null, value, null, height, code == TxCode.Ok ? "" : "aitbc"));

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
                    var view = chain.Read(s => (Account: s.GetAccount(address), Miner: s.GetMiner(address)));
                    return Contract(new LedgerAccount(address, view.Account.Balance, view.Account.Nonce, view.Account.Allowances, view.Miner?.Stake ?? Amount.Zero,
                        view.Miner?.UnbondingTotal ?? Amount.Zero));
                }
            case "job":
                return chain.Read(s => s.GetEscrow(id)) is { } escrow ? Ledger(escrow) : (TxCode.UnknownJob, $"job {id} not found", null);
            case "receipt":
                return chain.Read(s => s.GetReceipt(id)) is { } receipt ? Ledger(receipt) : (TxCode.UnknownJob, $"receipt {id} not found", null);
            case "miner":
                return Address.TryParse(id, out var minerAddress) && chain.Read(s => s.GetMiner(minerAddress)) is { } miner
                    ? Ledger(miner)
                    : (TxCode.UnknownMiner, $"miner {id} not found", null);
            case "miners" when parts.Length == 1:
                return Ledger(chain.Miners());
            case "supply" when parts.Length == 1:
                return Contract(new LedgerSupply(chain.Genesis.TotalSupply, chain.ComputeSupply(), chain.Status.Height));
            default:
                return (TxCode.InvalidField, $"unknown query path '{path}' (known: /account/{{address}}, /job/{{id}}, /receipt/{{id}}, /miner/{{address}}, /miners, /supply)", null);
        }

        // The ledger's own state records, as the chain stores them.
        static (TxCode, string, byte[]?) Ledger<T>(T value) => (TxCode.Ok, "", JsonSerializer.SerializeToUtf8Bytes(value, WireJson.Options));

        static (TxCode, string, byte[]?) Contract<T>(T value) => (TxCode.Ok, "", JsonSerializer.SerializeToUtf8Bytes(value, ContractJson.Server));
    }
}
