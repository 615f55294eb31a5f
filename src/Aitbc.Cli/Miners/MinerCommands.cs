using System.CommandLine;
using System.Globalization;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Wallets;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Core.Transactions;
using Spectre.Console;
using static Aitbc.Cli.Infrastructure.CommandExtensions;

namespace Aitbc.Cli.Miners;

/// <summary>JSON of <c>miner register|stake|unstake</c>: the committed transaction and the miner's stake after it.</summary>
public sealed record MinerTxView(string Address, string PubKey, string Type, string Amount, string Stake, string Tx, long Height);

/// <summary>JSON of <c>miner status</c>: the chain's record (null fields when unregistered) and the coordinator's market entry (null when not online).</summary>
public sealed record MinerStatusView(string Address, bool Registered, string? PubKey, string? Stake, long? RegisteredHeight, MarketMiner? Coordinator);

/// <summary>
/// <c>aitbc miner …</c>: the daemon (<c>start</c>, <c>key</c>, <c>make-test-model</c>: aitbc-miner's own commands, run
/// as that program), and a miner's chain identity (its wallet key) and stake.
/// </summary>
internal static class MinerCommands
{
    public static Command Build(Func<ParseResult, CliContext> context)
    {
        var miner = WithChainCommands(context);
        miner.Subcommands.Add(Daemon("start", "Run the miner: register, heartbeat, accept assignments, run inference"));
        miner.Subcommands.Add(Daemon("key",
            "Print the miner's address and public key (creating the key file, 0600, when missing): an admin needs the public key to issue the miner API key"));
        miner.Subcommands.Add(Daemon("make-test-model", "Write a tiny llama-architecture GGUF with random weights for the embedded backend"));
        return miner;
    }

    /// <summary>One of aitbc-miner's commands: <c>aitbc miner start ARGS</c> runs <c>aitbc-miner start ARGS</c>, which also answers <c>--help</c>.</summary>
    private static HostCommand Daemon(string name, string description) => new(name, description, HostProgram.Miner, wholeCommandLine: false);

    private static Command WithChainCommands(Func<ParseResult, CliContext> context) => new("miner", """
        Mine: run the miner daemon, register a wallet's key as a miner on chain with a stake, check its standing,
        change its stake.

        Examples:
          AITBC_MINER_API_KEY=ak_... aitbc miner start --backend ollama --price 0.05 --stake 1000
          aitbc miner make-test-model --out tiny.gguf
          aitbc miner key
          aitbc miner register --wallet gpu-box --stake 100
          aitbc miner status --wallet gpu-box
          aitbc miner stake --wallet gpu-box --amount 50
          aitbc miner unstake --wallet gpu-box --amount 25
        """)
    {
        Register(context),
        Status(context),
        StakeChange(context, "stake", """
            Add stake to a registered miner (locks more of its wallet's balance).

            Examples:
              aitbc miner stake --wallet gpu-box --amount 50
            """, amount => new RegisterMinerBody(amount)),
        StakeChange(context, "unstake", """
            Release stake not held by a running job back to the miner's wallet.

            Examples:
              aitbc miner unstake --wallet gpu-box --amount 25
            """, amount => new UnstakeBody(amount)),
    };

    private static Option<string?> WalletOption() => new("--wallet", "-w") { Description = "The miner's wallet: its key is the miner's identity [env AITBC_WALLET]" };

    private static Option<string?> PasswordFileOption() =>
        new("--password-file") { Description = "Read the wallet password from this file's first line [else env AITBC_WALLET_PASSWORD, else a prompt]" };

    private static Command Register(Func<ParseResult, CliContext> context)
    {
        var wallet = WalletOption();
        var passwordFile = PasswordFileOption();
        var stake = new Option<string>("--stake") { Description = "AITBC to lock as stake, e.g. 100", Required = true };
        var command = new Command("register", """
            Register a wallet's key as a miner on chain (register_miner), locking a stake; waits for the block.
            Then ask the coordinator's admin for a miner key: aitbc admin keys create --role miner --miner-pub-key <the printed key>.

            Examples:
              aitbc miner register --wallet gpu-box --stake 100
              aitbc miner register --wallet gpu-box --stake 100 --password-file pw.txt --output json
            """)
        { wallet, passwordFile, stake };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var amount = Positive(parse.GetValue(stake), "--stake");
            var file = new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(wallet) ?? ctx.Settings.Wallet);
            using var node = ctx.CreateNodeClient();
            if (await node.GetMinerAsync(file.ParsedAddress, cancellationToken) is { } existing)
            {
                throw new CliUsageException($"{file.Address} is already a registered miner with {existing.Stake.Show()} staked; add stake with 'aitbc miner stake --wallet {file.Name} --amount A'");
            }
            return await SendAsync(ctx, node, file, parse.GetValue(passwordFile), new RegisterMinerBody(amount), amount, cancellationToken);
        });
    }

    private static Command StakeChange(Func<ParseResult, CliContext> context, string name, string description, Func<Amount, TxBody> body)
    {
        var wallet = WalletOption();
        var passwordFile = PasswordFileOption();
        var amountOption = new Option<string>("--amount") { Description = "AITBC, e.g. 25", Required = true };
        var command = new Command(name, description) { wallet, passwordFile, amountOption };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var amount = Positive(parse.GetValue(amountOption), "--amount");
            var file = new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(wallet) ?? ctx.Settings.Wallet);
            using var node = ctx.CreateNodeClient();
            if (await node.GetMinerAsync(file.ParsedAddress, cancellationToken) is null)
            {
                throw new CliUsageException($"{file.Address} is not a registered miner; register first with 'aitbc miner register --wallet {file.Name} --stake A'");
            }
            return await SendAsync(ctx, node, file, parse.GetValue(passwordFile), body(amount), amount, cancellationToken);
        });
    }

    private static Command Status(Func<ParseResult, CliContext> context)
    {
        var address = new Argument<string?>("address") { Description = "The miner's address (default: the wallet's)", Arity = ArgumentArity.ZeroOrOne };
        var wallet = WalletOption();
        var command = new Command("status", """
            Show a miner: its chain registration and stake, and how the coordinator's market sees it (online, load, reputation).

            Examples:
              aitbc miner status aitbc1...
              aitbc miner status --wallet gpu-box --output json
            """)
        { address, wallet };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var who = parse.GetValue(address) is { } text
                ? ParseAddress(text, "address")
                : new WalletStore(ctx.Settings.WalletsDirectory).Load(parse.GetValue(wallet) ?? ctx.Settings.Wallet).ParsedAddress;
            using var node = ctx.CreateNodeClient();
            var miner = await node.GetMinerAsync(who, cancellationToken);
            MarketMiner? listed = null;
            if (miner is not null)
            {
                using var coordinator = ctx.CreateCoordinatorClient();
                listed = (await coordinator.GetMarketMinersAsync(cancellationToken)).Miners.FirstOrDefault(m => m.Address == who.Value);
            }
            var view = new MinerStatusView(who.Value, miner is not null, miner?.PubKey, miner?.Stake.ToAitbcString(), miner?.RegisteredHeight, listed);
            ctx.Write(view, console =>
            {
                if (miner is null)
                {
                    CliContext.WriteFields(console, ("Miner", who.Value), ("Registered", "no"));
                    console.WriteLine("Register it with 'aitbc miner register --wallet W --stake A'.");
                    return;
                }
                CliContext.WriteFields(console,
                    ("Miner", who.Value),
                    ("Registered", $"yes, at height {miner.RegisteredHeight.ToString(CultureInfo.InvariantCulture)}"),
                    ("Public key", miner.PubKey),
                    ("Stake", miner.Stake.Show()),
                    ("Coordinator", listed is null ? "not online in the market (is its daemon running with a miner key?)" : listed.Online ? "online" : "offline"),
                    ("Models", listed is null ? null : string.Join(", ", listed.Models)),
                    ("Load", listed is null ? null : $"{listed.InFlight.ToString(CultureInfo.InvariantCulture)} of {listed.Capacity.ToString(CultureInfo.InvariantCulture)}"),
                    ("Price", listed is null ? null : $"{listed.PricePerSecond} AITBC/s"),
                    ("Reputation", listed?.Reputation.ToString("0.00", CultureInfo.InvariantCulture)),
                    ("Last seen", listed?.LastSeen));
            });
            return ExitCodes.Ok;
        });
    }

    private static Amount Positive(string? text, string option)
    {
        var amount = ParseAmount(text, option);
        return amount.IsZero ? throw new CliUsageException($"{option} must be more than 0") : amount;
    }

    /// <summary>Signs <paramref name="body"/> with the wallet's key, waits for its block and prints the miner's stake after it.</summary>
    private static async Task<int> SendAsync(CliContext ctx, NodeClient node, KeystoreFile file, string? passwordFile, TxBody body, Amount amount, CancellationToken cancellationToken)
    {
        var password = PasswordSource.Get(ctx, passwordFile, ctx.PasswordFromEnvironment, file.Name, confirm: false);
        using var key = file.Unseal(password);
        var sender = await TxSender.CreateAsync(node, key, cancellationToken);
        var result = await sender.SendAndCommitAsync(body, cancellationToken);
        var type = body.TypeName();
        if (!result.IsOk)
        {
            var hint = result.Code == TxCode.InsufficientFunds ? "; check 'aitbc wallet balance' and 'aitbc miner status'" : "";
            throw new CliRefusedException($"the chain refused the {type}: {result.Log} (code {(uint)result.Code} {result.Code}){hint}");
        }
        var stake = (await node.GetMinerAsync(key.Address, cancellationToken))?.Stake ?? Amount.Zero;
        var view = new MinerTxView(key.Address.Value, key.PublicKey.Base64, type, amount.ToAitbcString(), stake.ToAitbcString(), result.Hash, result.Height);
        ctx.Write(view, console =>
        {
            CliContext.WriteFields(console, ("Miner", view.Address), ("Public key", view.PubKey), ("Tx", view.Tx), ("Type", type), ("Amount", amount.Show()),
                ("Stake", stake.Show()), ("Status", $"committed at height {result.Height.ToString(CultureInfo.InvariantCulture)}"));
            if (body is RegisterMinerBody && type == TxType.RegisterMiner && view.Amount == view.Stake)
            {
                console.WriteLine($"Next: ask the coordinator's admin for a miner key: aitbc admin keys create --role miner --miner-pub-key {view.PubKey}");
            }
        });
        return ExitCodes.Ok;
    }
}
