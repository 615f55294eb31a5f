using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Aitbc.Cli.Infrastructure;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Spectre.Console;
using static Aitbc.Cli.Infrastructure.CommandExtensions;

namespace Aitbc.Cli.Wallets;

/// <summary>JSON of a wallet as <c>create</c>, <c>import</c>, <c>address</c> and <c>list</c> print it.</summary>
public sealed record WalletView(string Name, string Address, string PubKey, string Path);

/// <summary>JSON of <c>wallet balance</c>: amounts in AITBC.</summary>
public sealed record BalanceView(string Address, string Balance, string Stake, ulong Nonce, IReadOnlyDictionary<string, string> Allowances);

/// <summary>JSON of a signed transaction: <c>status</c> is signed (not sent), accepted (in the mempool) or committed.</summary>
public sealed record SentView(string Hash, string Type, string From, string To, string Amount, ulong Nonce, string Status, long? Height, string? Tx);

/// <summary>One transfer in <c>wallet history</c>: direction is in or out relative to the wallet.</summary>
public sealed record HistoryItem(string Hash, long Height, string Direction, string From, string To, string Amount);

/// <summary><c>aitbc wallet …</c>: encrypted keystores and the transactions they sign.</summary>
internal static class WalletCommands
{
    public static Command Build(Func<ParseResult, CliContext> context)
    {
        var wallet = new Command("wallet", """
            Wallets: encrypted Ed25519 keys in ~/.aitbc/wallets, their balances and transfers.

            Examples:
              aitbc wallet create alice --password-file pw.txt
              aitbc wallet list
              aitbc wallet send --wallet alice --to aitbc1... --amount 0.25 --wait
            """);
        wallet.Subcommands.Add(Create(context));
        wallet.Subcommands.Add(Import(context));
        wallet.Subcommands.Add(List(context));
        wallet.Subcommands.Add(AddressCommand(context));
        wallet.Subcommands.Add(Balance(context));
        wallet.Subcommands.Add(Send(context));
        wallet.Subcommands.Add(Approve(context));
        wallet.Subcommands.Add(History(context));
        return wallet;
    }

    private static Argument<string?> NameArgument() =>
        new("name") { Description = "Wallet name (letters, digits, '-', '_'); default: the configured wallet, else 'default'", Arity = ArgumentArity.ZeroOrOne };

    private static Option<string?> WalletOption() =>
        new("--wallet", "-w") { Description = "Wallet name [env AITBC_WALLET, default 'default']" };

    private static Option<string?> PasswordFileOption() =>
        new("--password-file") { Description = "Read the wallet password from this file's first line [else env AITBC_WALLET_PASSWORD, else a prompt]" };

    private static Command Create(Func<ParseResult, CliContext> context)
    {
        var name = NameArgument();
        var passwordFile = PasswordFileOption();
        var command = new Command("create", """
            Create a wallet: a new Ed25519 key, sealed with a password (Argon2id + XChaCha20-Poly1305).

            Examples:
              aitbc wallet create alice
              AITBC_WALLET_PASSWORD=... aitbc wallet create ci-bot --output json
            """)
        { name, passwordFile };
        return command.WithAction(context, (ctx, parse, _) =>
        {
            var walletName = WalletStore.CheckName(parse.GetValue(name) ?? ctx.Settings.Wallet);
            var store = new WalletStore(ctx.Settings.WalletsDirectory);
            if (store.Exists(walletName))
            {
                throw new CliUsageException($"wallet '{walletName}' already exists; pick another name or see it with 'aitbc wallet address --wallet {walletName}'");
            }
            using var key = Ed25519KeyPair.Generate();
            return Task.FromResult(Save(ctx, store, walletName, key, parse.GetValue(passwordFile), "Created"));
        });
    }

    private static Command Import(Func<ParseResult, CliContext> context)
    {
        var name = NameArgument();
        var passwordFile = PasswordFileOption();
        var seedFile = new Option<string?>("--seed-file") { Description = "File holding the 32-byte seed as base64 or hex [default: read stdin]" };
        var command = new Command("import", """
            Import a wallet from its 32-byte Ed25519 seed (base64 or hex), from --seed-file or stdin.

            Examples:
              aitbc wallet import alice --seed-file alice.seed
              cat alice.seed | aitbc wallet import alice
            """)
        { name, seedFile, passwordFile };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var walletName = WalletStore.CheckName(parse.GetValue(name) ?? ctx.Settings.Wallet);
            var store = new WalletStore(ctx.Settings.WalletsDirectory);
            if (store.Exists(walletName))
            {
                throw new CliUsageException($"wallet '{walletName}' already exists; pick another name");
            }
            var text = parse.GetValue(seedFile) is { } file
                ? (File.Exists(file) ? await File.ReadAllTextAsync(file, cancellationToken) : throw new CliUsageException($"seed file '{file}' does not exist"))
                : await ctx.Stdin.ReadToEndAsync(cancellationToken);
            var seed = ParseSeed(text.Trim());
            try
            {
                using var key = Ed25519KeyPair.FromSeed(seed);
                return Save(ctx, store, walletName, key, parse.GetValue(passwordFile), "Imported");
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        });
    }

    private static Command List(Func<ParseResult, CliContext> context)
    {
        var command = new Command("list", """
            List the wallets in ~/.aitbc/wallets with their addresses (no password needed).

            Examples:
              aitbc wallet list
              aitbc wallet list --output json
            """);
        return command.WithAction(context, (ctx, _, _) =>
        {
            var store = new WalletStore(ctx.Settings.WalletsDirectory);
            var wallets = store.List().Select(w => new WalletView(w.Name, w.Address, w.PubKey, store.PathOf(w.Name))).ToList();
            ctx.Write(wallets, console =>
            {
                if (wallets.Count == 0)
                {
                    console.WriteLine($"No wallets in {store.Directory}; create one with 'aitbc wallet create NAME'.");
                    return;
                }
                var table = new Table().Border(TableBorder.None).AddColumn("NAME").AddColumn("ADDRESS");
                foreach (var w in wallets)
                {
                    table.AddRow(Markup.Escape(w.Name), w.Address);
                }
                console.Write(table);
            });
            return Task.FromResult(ExitCodes.Ok);
        });
    }

    private static Command AddressCommand(Func<ParseResult, CliContext> context)
    {
        var walletOption = WalletOption();
        var command = new Command("address", """
            Print a wallet's address (no password needed).

            Examples:
              aitbc wallet address --wallet alice
            """)
        { walletOption };
        return command.WithAction(context, (ctx, parse, _) =>
        {
            var store = new WalletStore(ctx.Settings.WalletsDirectory);
            var file = store.Load(parse.GetValue(walletOption) ?? ctx.Settings.Wallet);
            ctx.Write(new WalletView(file.Name, file.Address, file.PubKey, store.PathOf(file.Name)), console => console.WriteLine(file.Address));
            return Task.FromResult(ExitCodes.Ok);
        });
    }

    private static Command Balance(Func<ParseResult, CliContext> context)
    {
        var walletOption = WalletOption();
        var address = new Option<string?>("--address") { Description = "Any address, instead of a wallet's" };
        var command = new Command("balance", """
            Show a wallet's (or any address's) balance, stake, nonce and allowances, read from the node.

            Examples:
              aitbc wallet balance --wallet alice
              aitbc wallet balance --address aitbc1... --output json
            """)
        { walletOption, address };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var who = parse.GetValue(address) is { } text
                ? ParseAddress(text, "--address")
                : new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(walletOption) ?? ctx.Settings.Wallet).ParsedAddress;
            using var node = ctx.CreateNodeClient();
            var account = await node.GetAccountAsync(who, cancellationToken);
            var allowances = account.Allowances.OrderBy(a => a.Key).ToDictionary(a => a.Key.Value, a => a.Value.ToAitbcString());
            ctx.Write(new BalanceView(who.Value, account.Balance.ToAitbcString(), account.Stake.ToAitbcString(), account.Nonce, allowances), console =>
            {
                CliContext.WriteFields(console, ("Address", who.Value), ("Balance", account.Balance.Show()), ("Stake", account.Stake.Show()),
                    ("Nonce", account.Nonce.ToString(CultureInfo.InvariantCulture)));
                foreach (var (spender, amount) in account.Allowances.OrderBy(a => a.Key))
                {
                    console.WriteLine($"Allowance: {spender} may spend {amount.Show()}");
                }
            });
            return ExitCodes.Ok;
        });
    }

    private static Command Send(Func<ParseResult, CliContext> context)
    {
        var to = new Option<string>("--to") { Description = "Recipient address (aitbc1…)", Required = true };
        var amount = new Option<string>("--amount") { Description = "Amount in AITBC, e.g. 0.25", Required = true };
        return SignedCommand(context, "send", """
            Send AITBC from a wallet: signs a transfer and broadcasts it (returns once the node admits it; --wait for the block).

            Examples:
              aitbc wallet send --wallet alice --to aitbc1... --amount 0.25
              aitbc wallet send --wallet alice --to aitbc1... --amount 10 --wait --output json
              aitbc wallet send --wallet alice --to aitbc1... --amount 1 --sign-only --nonce 7 --chain-id aitbc-dev
            """, [to, amount], parse =>
        {
            var recipient = ParseAddress(parse.GetValue(to), "--to");
            var value = PositiveAmount(parse.GetValue(amount));
            return (new TransferBody(recipient, value), recipient.Value, value);
        });
    }

    private static Command Approve(Func<ParseResult, CliContext> context)
    {
        var spender = new Option<string>("--spender") { Description = "Address allowed to spend (usually the coordinator's)", Required = true };
        var amount = new Option<string>("--amount") { Description = "Allowance in AITBC (replaces the previous one; 0 revokes)", Required = true };
        return SignedCommand(context, "approve", """
            Let another address (the coordinator) spend up to an amount of this wallet's funds, e.g. to escrow job budgets.

            Examples:
              aitbc wallet approve --wallet alice --spender aitbc1... --amount 5
              aitbc wallet approve --wallet alice --spender aitbc1... --amount 0 --wait
            """, [spender, amount], parse =>
        {
            var who = ParseAddress(parse.GetValue(spender), "--spender");
            var value = ParseAmount(parse.GetValue(amount), "--amount");
            return (new ApproveBody(who, value), who.Value, value);
        });
    }

    private static Amount PositiveAmount(string? text)
    {
        var value = ParseAmount(text, "--amount");
        return value.IsZero ? throw new CliUsageException("--amount must be more than 0") : value;
    }

    /// <summary>A command that signs one transaction with a wallet's key, then prints it (--sign-only) or broadcasts it.</summary>
    private static Command SignedCommand(Func<ParseResult, CliContext> context, string name, string description, Option[] options,
        Func<ParseResult, (TxBody Body, string Counterparty, Amount Amount)> body)
    {
        var walletOption = WalletOption();
        var passwordFile = PasswordFileOption();
        var wait = new Option<bool>("--wait") { Description = "Wait until the transaction is committed in a block" };
        var signOnly = new Option<bool>("--sign-only") { Description = "Print the signed transaction as base64 and do not broadcast it" };
        var nonce = new Option<ulong?>("--nonce") { Description = "Nonce to sign with (default: the account's next, read from the node)" };
        var chainId = new Option<string?>("--chain-id") { Description = "Chain id to sign for (default: the node's); with --nonce, --sign-only needs no node" };
        var command = new Command(name, description) { walletOption, passwordFile, wait, signOnly, nonce, chainId };
        foreach (var option in options)
        {
            command.Options.Add(option);
        }
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            // Check the inputs before asking for a password, so a typo costs nothing.
            var (txBody, counterparty, amount) = body(parse);
            if (parse.GetValue(wait) && parse.GetValue(signOnly))
            {
                throw new CliUsageException("--wait and --sign-only exclude each other: a signed-only transaction is not sent");
            }
            if (!parse.GetValue(signOnly) && (parse.GetValue(nonce) is not null || parse.GetValue(chainId) is not null))
            {
                throw new CliUsageException("--nonce and --chain-id go with --sign-only; a broadcast reads both from the node");
            }
            var file = new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(walletOption) ?? ctx.Settings.Wallet);
            var password = PasswordSource.Get(ctx, parse.GetValue(passwordFile), ctx.PasswordFromEnvironment, file.Name, confirm: false);
            using var key = file.Unseal(password);
            var type = txBody.TypeName();

            if (parse.GetValue(signOnly))
            {
                var (chain, next) = (parse.GetValue(chainId), parse.GetValue(nonce));
                if (chain is null || next is null)
                {
                    using var node = ctx.CreateNodeClient();
                    chain ??= (await node.GetStatusAsync(cancellationToken)).ChainId;
                    next ??= (await node.GetAccountAsync(key.Address, cancellationToken)).NextNonce;
                }
                var signed = new UnsignedTransaction(chain, key.PublicKey, next.Value, txBody).Sign(key);
                var base64 = Convert.ToBase64String(signed.WireBytes);
                ctx.Write(new SentView(signed.Hash, type, key.Address.Value, counterparty, amount.ToAitbcString(), next.Value, "signed", null, base64),
                    console => console.WriteLine(base64));
                return ExitCodes.Ok;
            }

            using var client = ctx.CreateNodeClient();
            var sender = await TxSender.CreateAsync(client, key, cancellationToken);
            string hash;
            long? height = null;
            if (parse.GetValue(wait))
            {
                var result = await sender.SendAndCommitAsync(txBody, cancellationToken);
                if (!result.IsOk)
                {
                    throw Refused(type, result.Code, result.Log);
                }
                (hash, height) = (result.Hash, result.Height);
            }
            else
            {
                var result = await sender.SendAsync(txBody, cancellationToken);
                if (!result.IsOk)
                {
                    throw Refused(type, result.Code, result.Log);
                }
                hash = result.Hash;
            }
            var sentNonce = sender.NextNonce is { } n ? n - 1 : 0;
            var status = height is null ? "accepted" : "committed";
            ctx.Write(new SentView(hash, type, key.Address.Value, counterparty, amount.ToAitbcString(), sentNonce, status, height, null), console =>
                CliContext.WriteFields(console, ("Tx", hash), ("Type", type), ("From", key.Address.Value),
                    (type == TxType.Approve ? "Spender" : "To", counterparty), ("Amount", amount.Show()),
                    ("Status", height is { } h ? $"committed at height {h}" : "accepted (in the mempool; --wait to wait for its block)")));
            return ExitCodes.Ok;
        });
    }

    private static Command History(Func<ParseResult, CliContext> context)
    {
        var walletOption = WalletOption();
        var address = new Option<string?>("--address") { Description = "Any address, instead of a wallet's" };
        var limit = new Option<int>("--limit") { Description = "Most transfers to show each way (newest first)", DefaultValueFactory = _ => 30 };
        var command = new Command("history", """
            List the committed transfers to and from a wallet, newest first.

            Examples:
              aitbc wallet history --wallet alice
              aitbc wallet history --address aitbc1... --limit 10 --output json
            """)
        { walletOption, address, limit };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var who = parse.GetValue(address) is { } text
                ? ParseAddress(text, "--address")
                : new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(walletOption) ?? ctx.Settings.Wallet).ParsedAddress;
            var perPage = parse.GetValue(limit);
            if (perPage is < 1 or > 100)
            {
                throw new CliUsageException("--limit must be between 1 and 100");
            }
            using var node = ctx.CreateNodeClient();
            var sent = await node.SearchTxsAsync($"transfer.sender='{who.Value}'", 1, perPage, descending: true, cancellationToken);
            var received = await node.SearchTxsAsync($"transfer.recipient='{who.Value}'", 1, perPage, descending: true, cancellationToken);
            var items = sent.Txs.Concat(received.Txs)
                .DistinctBy(t => t.Hash)
                .Select(t => ToHistory(t, who))
                .OfType<HistoryItem>()
                .OrderByDescending(i => i.Height)
                .Take(perPage)
                .ToList();
            ctx.Write(items, console =>
            {
                if (items.Count == 0)
                {
                    console.WriteLine($"No transfers to or from {who.Value} yet.");
                    return;
                }
                var table = new Table().Border(TableBorder.None).AddColumn("HEIGHT").AddColumn("DIR").AddColumn("AMOUNT").AddColumn("COUNTERPARTY").AddColumn("TX");
                foreach (var i in items)
                {
                    table.AddRow(i.Height.ToString(CultureInfo.InvariantCulture), i.Direction, $"{i.Amount} AITBC", i.Direction == "out" ? i.To : i.From, i.Hash);
                }
                console.Write(table);
            });
            return ExitCodes.Ok;
        });
    }

    private static HistoryItem? ToHistory(TxInfo info, Address who)
    {
        var transfer = info.Result.Events.FirstOrDefault(e => e.Type == TxType.Transfer);
        if (transfer?.Get("sender") is not { } from || transfer.Get("recipient") is not { } to || !Amount.TryParseMicro(transfer.Get("amount"), out var amount))
        {
            return null;
        }
        return new HistoryItem(info.Hash, info.Height, from == who.Value ? "out" : "in", from, to, amount.ToAitbcString());
    }

    private static CliException Refused(string type, TxCode code, string log)
    {
        var hint = code switch
        {
            TxCode.InsufficientFunds => "; check 'aitbc wallet balance'",
            TxCode.WrongChainId => "; is --node the chain you meant?",
            TxCode.BadNonce => "; another transaction from this wallet raced it, try again",
            _ => "",
        };
        return new CliRefusedException($"the chain refused the {type}: {log} (code {(uint)code} {code}){hint}");
    }

    private static int Save(CliContext ctx, WalletStore store, string name, Ed25519KeyPair key, string? passwordFile, string verb)
    {
        var password = PasswordSource.Get(ctx, passwordFile, ctx.PasswordFromEnvironment, name, confirm: true);
        store.Save(KeystoreFile.Seal(name, key, password, ctx.Settings.Kdf, DateTimeOffset.UtcNow));
        var path = store.PathOf(name);
        ctx.Write(new WalletView(name, key.Address.Value, key.PublicKey.Base64, path), console =>
        {
            console.WriteLine($"{verb} wallet '{name}'");
            CliContext.WriteFields(console, ("Address", key.Address.Value), ("Keystore", path));
            console.WriteLine("Keep the password safe: without it the key cannot be recovered.");
        });
        return ExitCodes.Ok;
    }

    /// <summary>A seed as base64 or hex; anything else (or a wrong length) is a usage error that never echoes the input.</summary>
    private static byte[] ParseSeed(string text)
    {
        byte[]? seed = null;
        if (text.Length == Ed25519KeyPair.SeedSize * 2 && text.All(Uri.IsHexDigit))
        {
            seed = Convert.FromHexString(text);
        }
        else
        {
            var buffer = new byte[Ed25519KeyPair.SeedSize + 3];
            if (Convert.TryFromBase64String(text, buffer, out var written) && written == Ed25519KeyPair.SeedSize)
            {
                seed = buffer[..written];
            }
            CryptographicOperations.ZeroMemory(buffer);
        }
        return seed ?? throw new CliUsageException("the seed must be 32 bytes as base64 (44 characters) or hex (64 digits)");
    }
}
