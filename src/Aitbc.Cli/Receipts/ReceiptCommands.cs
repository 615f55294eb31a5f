using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Aitbc.Cli.Infrastructure;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Spectre.Console;

namespace Aitbc.Cli.Receipts;

/// <summary>One check of <c>receipt verify</c>: what was checked, whether it held, and why.</summary>
public sealed record ReceiptCheck(string Check, bool Ok, string Detail);

/// <summary>JSON of <c>receipt verify</c>: valid only when every check holds.</summary>
public sealed record ReceiptVerificationView(string ReceiptId, bool Valid, IReadOnlyList<ReceiptCheck> Checks);

/// <summary><c>aitbc receipt show|verify</c>: a job's signed receipt, checked offline and against the chain.</summary>
internal static class ReceiptCommands
{
    public static Command Build(Func<ParseResult, CliContext> context) => new("receipt", """
        Receipts: the coordinator's signed record of a finished job and what it paid.

        Examples:
          aitbc receipt show receipt_789
          aitbc receipt verify receipt_789
        """)
    {
        Show(context),
        Verify(context),
    };

    private static Command Show(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string>("receipt") { Description = "Receipt id, as 'aitbc status JOB' prints it" };
        var command = new Command("show", """
            Show a receipt as the coordinator signed it, with the chain transaction that recorded it.

            Examples:
              aitbc receipt show receipt_789
              aitbc receipt show receipt_789 --output json
            """)
        { id };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient();
            var receipt = await coordinator.GetReceiptAsync(parse.GetValue(id)!, cancellationToken);
            ctx.Write(receipt, console => WriteReceipt(console, receipt));
            return ExitCodes.Ok;
        });
    }

    private static Command Verify(Func<ParseResult, CliContext> context)
    {
        var id = new Argument<string?>("receipt") { Description = "Receipt id to fetch from the coordinator", Arity = ArgumentArity.ZeroOrOne };
        var file = new Option<string?>("--file") { Description = "Verify a receipt saved as JSON ('aitbc receipt show ID --output json') instead of fetching it" };
        var pin = new Option<string?>("--coordinator-pub-key") { Description = "Accept only receipts signed by this coordinator key (base64)" };
        var command = new Command("verify", """
            Verify a receipt: the coordinator's and the miner's signatures offline (the miner's key read from its chain
            registration), then that the chain recorded the same job, miner, amount and result. Exit code 5 when any check fails.

            Examples:
              aitbc receipt verify receipt_789
              aitbc receipt verify --file receipt.json --coordinator-pub-key <base64 key>
            """)
        { id, file, pin };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            Ed25519PublicKey? trusted = null;
            if (parse.GetValue(pin) is { } pinText && !Ed25519PublicKey.TryParse(pinText.Trim(), out trusted))
            {
                throw new CliUsageException("--coordinator-pub-key must be a base64 Ed25519 public key (44 characters)");
            }
            var receipt = await LoadAsync(ctx, parse.GetValue(id), parse.GetValue(file), cancellationToken);
            using var node = ctx.CreateNodeClient();
            var view = await CheckAsync(receipt, node, trusted, cancellationToken);
            var checks = view.Checks;
            ctx.Write(view, console => WriteChecks(console, receipt, view));
            return view.Valid
                ? ExitCodes.Ok
                : throw new CliRefusedException($"receipt {receipt.ReceiptId} did not verify: {string.Join("; ", checks.Where(c => !c.Ok).Select(c => $"{c.Check}: {c.Detail}"))}");
        });
    }

    /// <summary>One line per check, <c>ok</c> or <c>FAIL</c>, under the receipt's id.</summary>
    internal static void WriteChecks(IAnsiConsole console, Receipt receipt, ReceiptVerificationView view)
    {
        console.WriteLine($"Receipt {receipt.ReceiptId} for job {receipt.JobId}");
        var width = view.Checks.Max(c => c.Check.Length);
        foreach (var check in view.Checks)
        {
            console.WriteLine($"  {(check.Ok ? "ok  " : "FAIL")}  {check.Check.PadRight(width)}  {check.Detail}");
        }
    }

    /// <summary>Every check of a receipt: the miner's registration, both signatures offline, then the chain's record of it.</summary>
    internal static async Task<ReceiptVerificationView> CheckAsync(Receipt receipt, NodeClient node, Ed25519PublicKey? trusted, CancellationToken cancellationToken)
    {
        var checks = new List<ReceiptCheck>();

        var miner = await node.GetMinerAsync(receipt.Miner, cancellationToken);
        Ed25519PublicKey? minerKey = null;
        if (miner is null)
        {
            checks.Add(new("miner registered", false, $"{receipt.Miner} is not a registered miner on the chain, so its signature cannot be checked"));
        }
        else if (!Ed25519PublicKey.TryParse(miner.PubKey, out minerKey))
        {
            checks.Add(new("miner registered", false, $"the chain's key for {receipt.Miner} is not a public key"));
        }
        else
        {
            checks.Add(new("miner registered", true, $"{receipt.Miner} registered at height {miner.RegisteredHeight.ToString(CultureInfo.InvariantCulture)}"));
        }
        if (minerKey is null)
        {
            checks.Add(new("signatures", false, "not checked: the chain holds no key for the receipt's miner"));
        }
        else
        {
            var result = receipt.Verify(minerKey, trusted);
            checks.Add(new("signatures", result.Valid, result.Valid
                ? $"coordinator {receipt.Coordinator}{(trusted is null ? "" : " (pinned)")} and miner signatures are valid"
                : result.Reason));
        }

        var chain = await node.GetReceiptAsync(receipt.ReceiptId, cancellationToken);
        if (chain is null)
        {
            checks.Add(new("on chain", false, $"the chain has no receipt {receipt.ReceiptId} (not recorded yet, or --node is another chain)"));
        }
        else
        {
            checks.Add(new("on chain", true, $"recorded at height {chain.Height.ToString(CultureInfo.InvariantCulture)} by tx {chain.TxHash}"));
            checks.Add(Same("same job", receipt.JobId, chain.JobId));
            checks.Add(Same("same miner", receipt.Miner.Value, chain.Miner.Value));
            checks.Add(Amount.TryParseAitbc(receipt.AmountPaid, out var paid) && paid == chain.AmountPaid
                ? new("same amount", true, chain.AmountPaid.Show())
                : new("same amount", false, $"receipt says {receipt.AmountPaid} AITBC, chain paid {chain.AmountPaid.Show()}"));
            checks.Add(Same("same result hash", receipt.ResultHash, chain.ResultHash));
            if (receipt.Chain is { } reference)
            {
                checks.Add(Same("same transaction", reference.TxHash.ToUpperInvariant(), chain.TxHash.ToUpperInvariant()));
            }
        }
        return new ReceiptVerificationView(receipt.ReceiptId, checks.All(c => c.Ok), checks);
    }

    private static ReceiptCheck Same(string check, string receipt, string chain) =>
        string.Equals(receipt, chain, StringComparison.Ordinal)
            ? new(check, true, chain)
            : new(check, false, $"receipt says {receipt}, chain says {chain}");

    private static async Task<Receipt> LoadAsync(CliContext ctx, string? id, string? file, CancellationToken cancellationToken)
    {
        if (file is null)
        {
            if (id is null)
            {
                throw new CliUsageException("name the receipt to verify ('aitbc receipt verify receipt_789') or give --file");
            }
            using var coordinator = ctx.CreateCoordinatorClient();
            return await coordinator.GetReceiptAsync(id, cancellationToken);
        }
        if (!File.Exists(file))
        {
            throw new CliUsageException($"receipt file '{file}' does not exist");
        }
        try
        {
            var receipt = JsonSerializer.Deserialize<Receipt>(await File.ReadAllTextAsync(file, cancellationToken), RestJson.Options)
                ?? throw new CliUsageException($"receipt file '{file}' holds JSON null");
            return id is null || id == receipt.ReceiptId
                ? receipt
                : throw new CliUsageException($"receipt file '{file}' holds {receipt.ReceiptId}, not {id}");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"receipt file '{file}' is not a receipt ({e.Message}); save one with 'aitbc receipt show ID --output json'");
        }
    }

    private static void WriteReceipt(IAnsiConsole console, Receipt receipt) =>
        CliContext.WriteFields(console,
            ("Receipt", receipt.ReceiptId),
            ("Job ID", receipt.JobId),
            ("Client", receipt.Client.Value),
            ("Miner", receipt.Miner.Value),
            ("Model", receipt.Model),
            ("Compute time", $"{receipt.ComputeTime.ToString("0.###", CultureInfo.InvariantCulture)} s"),
            ("Tokens", receipt.TokensGenerated.ToString(CultureInfo.InvariantCulture)),
            ("Price", $"{receipt.PricePerSecond} AITBC/s"),
            ("Paid", $"{receipt.AmountPaid} AITBC"),
            ("Prompt hash", receipt.PromptHash),
            ("Result hash", receipt.ResultHash),
            ("Issued", receipt.IssuedAt),
            ("Coordinator", receipt.Coordinator),
            ("Chain tx", receipt.Chain?.TxHash),
            ("Block", receipt.Chain?.BlockHeight?.ToString(CultureInfo.InvariantCulture)));
}
