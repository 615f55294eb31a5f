using System.CommandLine;
using System.Globalization;
using Aitbc.Cli.Infrastructure;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Transactions;
using Spectre.Console;

namespace Aitbc.Cli.Chain;

/// <summary>JSON of <c>blockchain info</c>.</summary>
public sealed record ChainInfoView(string ChainId, long Height, string LatestBlockHash, DateTimeOffset LatestBlockTime, string AppHash,
    bool CatchingUp, string Moniker, string NodeId, string Version, int MempoolTxs, string NodeUrl);

/// <summary>JSON of <c>blockchain block</c>.</summary>
public sealed record BlockView(long Height, string Hash, string Time, string ChainId, string LastBlockHash, string DataHash,
    string AppHash, string Proposer, IReadOnlyList<string> Txs);

/// <summary>
/// JSON of <c>blockchain tx</c>: the decoded envelope plus its execution result. <c>body</c> is the on-chain form
/// (amounts in uaitbc); <c>amount</c> repeats the body's amount in AITBC when it has one.
/// </summary>
public sealed record TxView(string Hash, long Height, int Index, uint Code, string CodeName, string Log, string? Type, string? Sender,
    ulong? Nonce, string? ChainId, string? Amount, System.Text.Json.Nodes.JsonNode? Body);

/// <summary>JSON of one validator in <c>blockchain validators</c>.</summary>
public sealed record ValidatorView(string Address, string AccountAddress, string PubKey, long VotingPower);

/// <summary>JSON of <c>blockchain supply</c>.</summary>
public sealed record SupplyView(string TotalSupply, string Counted, bool Balanced, long Height);

/// <summary><c>aitbc blockchain …</c>: read-only views of the chain through the node's RPC.</summary>
internal static class BlockchainCommands
{
    public static Command Build(Func<ParseResult, CliContext> context)
    {
        var chain = new Command("blockchain", """
            Read the chain through a node: tip, blocks, transactions, validators, supply.

            Examples:
              aitbc blockchain info
              aitbc blockchain block 12 --output json
              aitbc blockchain tx 3F2A...
            """);
        chain.Subcommands.Add(Info(context));
        chain.Subcommands.Add(Block(context));
        chain.Subcommands.Add(Tx(context));
        chain.Subcommands.Add(Validators(context));
        chain.Subcommands.Add(Supply(context));
        return chain;
    }

    private static Command Info(Func<ParseResult, CliContext> context)
    {
        var command = new Command("info", """
            Show the node's chain id, height, latest block and mempool size.

            Examples:
              aitbc blockchain info
              aitbc blockchain info --node http://10.0.0.5:8006 --output json
            """);
        return command.WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var node = ctx.CreateNodeClient();
            var status = await node.GetStatusAsync(cancellationToken);
            var mempool = await node.NumUnconfirmedTxsAsync(cancellationToken);
            var view = new ChainInfoView(status.ChainId, status.LatestBlockHeight, status.LatestBlockHash, status.LatestBlockTime, status.LatestAppHash,
                status.CatchingUp, status.Moniker, status.NodeId, status.Version, mempool.Total, ctx.Settings.NodeUrl.ToString());
            ctx.Write(view, console => CliContext.WriteFields(console,
                ("Chain", view.ChainId), ("Height", Num(view.Height)), ("Latest block", view.LatestBlockHash),
                ("Block time", view.LatestBlockTime.ToString("u", CultureInfo.InvariantCulture)), ("App hash", view.AppHash),
                ("Syncing", view.CatchingUp ? "yes" : "no"), ("Mempool", $"{mempool.Total} txs"),
                ("Node", $"{view.Moniker} ({view.Version}) at {view.NodeUrl}")));
            return ExitCodes.Ok;
        });
    }

    private static Command Block(Func<ParseResult, CliContext> context)
    {
        var height = new Argument<long?>("height") { Description = "Block height (default: the latest)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("block", """
            Show a block's header and transaction hashes.

            Examples:
              aitbc blockchain block
              aitbc blockchain block 42 --output json
            """)
        { height };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var h = parse.GetValue(height);
            if (h is < 1)
            {
                throw new CliUsageException("a block height is 1 or more");
            }
            using var node = ctx.CreateNodeClient();
            BlockInfo block;
            try
            {
                block = await node.GetBlockAsync(h, cancellationToken);
            }
            catch (NodeRpcException e) when (h is not null)
            {
                throw new CliRefusedException($"no block at height {h}: {e.ErrorData ?? e.ErrorMessage}; see 'aitbc blockchain info' for the latest height");
            }
            var header = block.Header;
            var view = new BlockView(header.Height, block.Hash, header.Time, header.ChainId, header.LastBlockHash, header.DataHash, header.AppHash,
                header.ProposerAddress, block.TxHashes);
            ctx.Write(view, console =>
            {
                CliContext.WriteFields(console, ("Height", Num(view.Height)), ("Hash", view.Hash),
                    ("Time", view.Time), ("Chain", view.ChainId), ("Previous", view.LastBlockHash),
                    ("Data hash", view.DataHash), ("App hash", view.AppHash), ("Proposer", view.Proposer), ("Txs", Num(view.Txs.Count)));
                foreach (var tx in view.Txs)
                {
                    console.WriteLine("  " + tx);
                }
            });
            return ExitCodes.Ok;
        });
    }

    private static Command Tx(Func<ParseResult, CliContext> context)
    {
        var hash = new Argument<string>("hash") { Description = "Transaction hash (64 hex digits)" };
        var command = new Command("tx", """
            Show a committed transaction: who sent it, its body and its result.

            Examples:
              aitbc blockchain tx 3F2A9C...E1
              aitbc blockchain tx 3F2A9C...E1 --output json
            """)
        { hash };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var text = parse.GetValue(hash)!.Trim();
            if (text.Length != 64 || !text.All(Uri.IsHexDigit))
            {
                throw new CliUsageException($"'{text}' is not a transaction hash; a hash is 64 hex digits");
            }
            using var node = ctx.CreateNodeClient();
            var info = await node.GetTxAsync(text, cancellationToken)
                ?? throw new CliRefusedException($"no committed transaction {text.ToUpperInvariant()} on this node; a just-sent one may still be in the mempool");
            var decoded = info.Decode();
            var view = new TxView(info.Hash, info.Height, info.Index, (uint)info.Result.Code, info.Result.Code.ToString(), info.Result.Log,
                decoded?.Tx.Type, decoded?.Sender.Value, decoded?.Tx.Nonce, decoded?.Tx.ChainId, BodyAmount(decoded?.Tx.Body)?.ToAitbcString(),
                decoded?.Tx.ToJson()["body"]?.DeepClone());
            ctx.Write(view, console => CliContext.WriteFields(console,
                ("Tx", view.Hash), ("Height", Num(view.Height)), ("Result", view.Code == 0 ? "ok" : $"refused: {view.Log} (code {view.Code} {view.CodeName})"),
                ("Type", view.Type), ("Sender", view.Sender), ("Nonce", view.Nonce?.ToString(CultureInfo.InvariantCulture)),
                ("Amount", view.Amount is null ? null : view.Amount + " AITBC"), ("Body", view.Body?.ToJsonString())));
            return ExitCodes.Ok;
        });
    }

    private static Command Validators(Func<ParseResult, CliContext> context)
    {
        var command = new Command("validators", """
            List the validators and their voting power.

            Examples:
              aitbc blockchain validators --output json
            """);
        return command.WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var node = ctx.CreateNodeClient();
            var set = await node.GetValidatorsAsync(null, cancellationToken);
            var views = set.Validators.Select(v => new ValidatorView(v.Address, v.PubKey.Address.Value, v.PubKey.Base64, v.VotingPower)).ToList();
            ctx.Write(views, console =>
            {
                var table = new Table().Border(TableBorder.None).AddColumn("ADDRESS").AddColumn("ACCOUNT").AddColumn("POWER");
                foreach (var v in views)
                {
                    table.AddRow(v.Address, v.AccountAddress, Num(v.VotingPower));
                }
                console.Write(table);
            });
            return ExitCodes.Ok;
        });
    }

    private static Command Supply(Func<ParseResult, CliContext> context)
    {
        var command = new Command("supply", """
            Show the total supply from genesis and whether balances + escrow + stake still add up to it.

            Examples:
              aitbc blockchain supply
            """);
        return command.WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var node = ctx.CreateNodeClient();
            var supply = await node.GetSupplyAsync(cancellationToken);
            var view = new SupplyView(supply.TotalSupply.ToAitbcString(), supply.Counted.ToAitbcString(), supply.IsBalanced, supply.Height);
            ctx.Write(view, console => CliContext.WriteFields(console,
                ("Total supply", supply.TotalSupply.Show()), ("Counted", supply.Counted.Show()),
                ("Balanced", supply.IsBalanced ? "yes" : "NO: the ledger invariant is broken"), ("Height", Num(supply.Height))));
            return ExitCodes.Ok;
        });
    }

    /// <summary>The amount a body moves or grants, for the text view; null for bodies without one.</summary>
    private static Amount? BodyAmount(TxBody? body) => body switch
    {
        TransferBody t => t.Amount,
        ApproveBody a => a.Amount,
        RegisterMinerBody r => r.Stake,
        UnstakeBody u => u.Amount,
        SubmitJobBody j => j.MaxAmount,
        RecordReceiptBody r => r.AmountPaid,
        _ => null,
    };

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);
}
