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
        var pin = new Option<string?>("--coordinator-pub-key") { Description = "Accept only receipts signed by this coordinator key (base64), which must also be one the chain's genesis names" };
        var command = new Command("verify", """
            Verify a receipt: its signer is a coordinator named in the chain's genesis, the coordinator's and the miner's
            signatures (the miner's key read from its chain registration), then every field against the chain's record:
            job, client, miner, model, prompt and result hashes, compute time, tokens, miner signature, amount paid, the
            price against that amount, and the coordinator that opened and settled the escrow. Exit code 5 when any
            check fails.

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

    /// <summary>
    /// Every check of a receipt: its signer is a coordinator the chain accepts, the miner's registration, both
    /// signatures offline, then every field against the chain's record of it, its job's escrow and the transaction
    /// that recorded it.
    /// </summary>
    internal static async Task<ReceiptVerificationView> CheckAsync(Receipt receipt, NodeClient node, Ed25519PublicKey? trusted, CancellationToken cancellationToken)
    {
        var checks = new List<ReceiptCheck>();
        Ed25519PublicKey? signer = Ed25519PublicKey.TryParse(receipt.Coordinator, out var key) ? key : null;
        checks.Add(CoordinatorCheck(receipt, signer, trusted, await node.GetCoordinatorsAsync(cancellationToken)));

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
            checks.Add(new("on chain", false, await MissingAsync(receipt, node, cancellationToken)));
            return new ReceiptVerificationView(receipt.ReceiptId, false, checks);
        }
        checks.Add(new("on chain", true, $"recorded at height {chain.Height.ToString(CultureInfo.InvariantCulture)} by tx {chain.TxHash}"));
        checks.Add(Same("same job", receipt.JobId, chain.JobId));
        checks.Add(Same("same client", receipt.Client.Value, chain.Client.Value));
        checks.Add(Same("same miner", receipt.Miner.Value, chain.Miner.Value));
        checks.Add(Same("same model", receipt.Model, chain.Model));
        checks.Add(Same("same prompt hash", receipt.PromptHash, chain.PromptHash));
        checks.Add(Same("same result hash", receipt.ResultHash, chain.ResultHash));
        checks.Add(Same("same compute time", Seconds(receipt.ComputeTime), Seconds(chain.ComputeTime)));
        checks.Add(Same("same tokens", receipt.TokensGenerated.ToString(CultureInfo.InvariantCulture), chain.TokensGenerated.ToString(CultureInfo.InvariantCulture)));
        checks.Add(Same("same miner signature", receipt.MinerSignature, chain.MinerSignature));
        checks.Add(Amount.TryParseAitbc(receipt.AmountPaid, out var paid) && paid == chain.AmountPaid
            ? new("same amount", true, chain.AmountPaid.Show())
            : new("same amount", false, $"receipt says {receipt.AmountPaid} AITBC, chain paid {chain.AmountPaid.Show()}"));
        checks.Add(PriceCheck(receipt, chain));
        checks.Add(await SameCoordinatorAsync(signer, chain, node, cancellationToken));
        if (receipt.Chain is { } reference)
        {
            checks.Add(Same("same transaction", reference.TxHash.ToUpperInvariant(), chain.TxHash.ToUpperInvariant()));
        }
        return new ReceiptVerificationView(receipt.ReceiptId, checks.All(c => c.Ok), checks);
    }

    /// <summary>
    /// The receipt's own <c>coordinator</c> key proves nothing by itself (anyone can write a fresh key there and sign):
    /// its address must be one the chain's genesis names, and the pinned key when one is given.
    /// </summary>
    private static ReceiptCheck CoordinatorCheck(Receipt receipt, Ed25519PublicKey? signer, Ed25519PublicKey? trusted, IReadOnlyList<Address> coordinators)
    {
        if (signer is null)
        {
            return new("coordinator", false, $"'{receipt.Coordinator}' is not a base64 Ed25519 public key");
        }
        if (trusted is not null && !trusted.Equals(signer))
        {
            return new("coordinator", false, $"signed by {signer.Address}, not by the pinned key {trusted.Base64}");
        }
        return coordinators.Contains(signer.Address)
            ? new("coordinator", true, $"{signer.Address} is a coordinator named in genesis{(trusted is null ? "" : " (pinned)")}")
            : new("coordinator", false, $"{signer.Address} is not a coordinator of this chain (genesis names {string.Join(", ", coordinators)})");
    }

    /// <summary>Why the chain holds no receipt by this id, read from the escrow of the receipt's job.</summary>
    private static async Task<string> MissingAsync(Receipt receipt, NodeClient node, CancellationToken cancellationToken)
    {
        var prefix = $"the chain has no receipt {receipt.ReceiptId}";
        var escrow = await node.GetEscrowAsync(receipt.JobId, cancellationToken);
        return escrow switch
        {
            null => $"{prefix} and no escrow for job {receipt.JobId} (the job was never escrowed, or --node is another chain)",
            { IsOpen: true } => $"{prefix}; the escrow of job {receipt.JobId} is still open (not settled yet)",
            { Status: EscrowStatus.Paid } => $"{prefix}; job {receipt.JobId} was paid by receipt {escrow.ReceiptId}",
            _ => $"{prefix}; job {receipt.JobId} was {escrow.Status}{(escrow.Reason is { Length: > 0 } reason ? $" ({reason})" : "")}, so no receipt was paid",
        };
    }

    /// <summary>
    /// The price is not on chain, but the coordinator pays ⌊billable × price⌋ with billable at most the compute time,
    /// so the chain's payment can never exceed the receipt's compute time × price: a lowered price shows.
    /// </summary>
    private static ReceiptCheck PriceCheck(Receipt receipt, ChainReceipt chain)
    {
        if (!Amount.TryParseAitbc(receipt.PricePerSecond, out var price))
        {
            return new("price", false, $"price_per_second '{receipt.PricePerSecond}' is not an AITBC amount");
        }
        // The coordinator's own arithmetic (decimal, floored), so a receipt it issued always passes.
        var bound = price.IsZero ? Amount.Zero
            : chain.ComputeTime * price.Micro >= ulong.MaxValue ? new Amount(ulong.MaxValue)
            : new Amount((ulong)Math.Floor((decimal)chain.ComputeTime * price.Micro));
        var shown = $"{receipt.PricePerSecond} AITBC/s × {Seconds(chain.ComputeTime)} s = {bound.Show()}";
        return chain.AmountPaid <= bound
            ? new("price", true, $"{shown}, at least the {chain.AmountPaid.Show()} paid")
            : new("price", false, $"{shown}, less than the {chain.AmountPaid.Show()} the chain paid");
    }

    /// <summary>The receipt's signer opened the job's escrow and sent the record_receipt transaction: the chain's own record of who settled it.</summary>
    private static async Task<ReceiptCheck> SameCoordinatorAsync(Ed25519PublicKey? signer, ChainReceipt chain, NodeClient node, CancellationToken cancellationToken)
    {
        var escrow = await node.GetEscrowAsync(chain.JobId, cancellationToken);
        var recorder = (await node.GetTxAsync(chain.TxHash, cancellationToken))?.Decode()?.Sender;
        var signed = signer?.Address.Value ?? "no valid key";
        var opened = escrow?.Coordinator.Value ?? "nobody (no escrow)";
        var recorded = recorder?.Value ?? "an unknown sender (transaction not found)";
        return signer is not null && escrow is not null && signer.Address == escrow.Coordinator && signer.Address == recorder
            ? new("same coordinator", true, $"{signed} opened the escrow and recorded the receipt")
            : new("same coordinator", false, $"receipt signed by {signed}; the chain's escrow was opened by {opened} and its receipt recorded by {recorded}");
    }

    private static string Seconds(double seconds) => seconds.ToString("R", CultureInfo.InvariantCulture);

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
