using System.CommandLine;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Jobs;
using Aitbc.Cli.Market;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Spectre.Console;
using static Aitbc.Cli.Infrastructure.CommandExtensions;

namespace Aitbc.Cli.Admin;

/// <summary>
/// <c>aitbc admin keys create|revoke</c>, <c>aitbc admin jobs|miners</c>, sent with the admin key (<see cref="CliSettings.AdminKey"/>:
/// <c>--api-key</c>, else <c>AITBC_ADMIN_KEY</c>, else <c>ADMIN_API_KEY</c>, else the config's <c>admin_key</c>).
/// </summary>
internal static class AdminCommands
{
    public static Command Build(Func<ParseResult, CliContext> context) => new("admin", """
        Coordinator administration with the admin key (--api-key, else env AITBC_ADMIN_KEY, else ADMIN_API_KEY).

        Examples:
          aitbc admin keys create --role client --address aitbc1...
          aitbc admin jobs --status failed
          aitbc admin miners
        """)
    {
        new Command("keys", """
            API keys for clients, miners and admins.

            Examples:
              aitbc admin keys create --role client --address aitbc1...
              aitbc admin keys revoke 3f9a0c21b7de
            """)
        {
            CreateKey(context),
            RevokeKey(context),
        },
        Jobs(context),
        Miners(context),
    };

    private static Command CreateKey(Func<ParseResult, CliContext> context)
    {
        var role = new Option<string>("--role") { Description = "client (bound to a wallet address), miner (bound to a miner's public key) or admin", Required = true };
        role.AcceptOnlyFromAmong("client", "miner", "admin");
        var address = new Option<string?>("--address") { Description = "The client's wallet address (aitbc1…): jobs are paid from it" };
        var minerPubKey = new Option<string?>("--miner-pub-key") { Description = "The miner's public key (base64, 'aitbc miner register' prints it)" };
        var command = new Command("create", """
            Create an API key. The key is printed this once; the coordinator keeps only its hash.

            Examples:
              aitbc admin keys create --role client --address aitbc1...
              aitbc admin keys create --role miner --miner-pub-key <base64 key>
              aitbc admin keys create --role admin --output json
            """)
        { role, address, minerPubKey };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var roleName = parse.GetValue(role)!;
            var owner = parse.GetValue(address) is { } a ? ParseAddress(a, "--address").Value : null;
            var pub = parse.GetValue(minerPubKey)?.Trim();
            if (pub is not null && !Ed25519PublicKey.TryParse(pub, out _))
            {
                throw new CliUsageException("--miner-pub-key must be a base64 Ed25519 public key (44 characters), as 'aitbc miner register' prints it");
            }
            switch (roleName)
            {
                case "client" when owner is null:
                    throw new CliUsageException("a client key needs --address: the wallet its jobs are paid from ('aitbc wallet address')");
                case "miner" when pub is null:
                    throw new CliUsageException("a miner key needs --miner-pub-key: the key the miner registered on chain with");
            }
            using var coordinator = ctx.CreateCoordinatorClient(CoordinatorKeyKind.Admin);
            var created = await coordinator.CreateApiKeyAsync(new ApiKeyRequest(roleName, owner, pub), cancellationToken);
            ctx.Write(created, console =>
            {
                CliContext.WriteFields(console, ("Key", created.Key), ("Key ID", created.KeyId), ("Role", created.Role), ("Address", created.Address),
                    ("Miner key", created.MinerPubKey), ("Created", created.CreatedAt));
                console.WriteLine("Store the key now: it is not shown again.");
            });
            return ExitCodes.Ok;
        });
    }

    private static Command RevokeKey(Func<ParseResult, CliContext> context)
    {
        var keyId = new Argument<string>("key-id") { Description = "The key's id: the 12 hex digits after ak_ in the key ('Key ID' when it was created)" };
        var command = new Command("revoke", """
            Revoke an API key: every later request with it is refused (401). Jobs already submitted with it go on.

            Examples:
              aitbc admin keys revoke 3f9a0c21b7de
            """)
        { keyId };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var id = parse.GetValue(keyId)!.Trim();
            if (id.StartsWith("ak_", StringComparison.Ordinal))
            {
                throw new CliUsageException("give the key's id (the 12 hex digits after ak_), not the key itself: the key is a secret and need not travel again");
            }
            if (id.Length != 12 || !id.All(char.IsAsciiHexDigitLower))
            {
                throw new CliUsageException("a key id is 12 lower-case hex digits ('Key ID' when the key was created)");
            }
            using var coordinator = ctx.CreateCoordinatorClient(CoordinatorKeyKind.Admin);
            await coordinator.RevokeApiKeyAsync(id, cancellationToken);
            ctx.Write(new { key_id = id, revoked = true }, console => console.WriteLine($"Key {id} revoked."));
            return ExitCodes.Ok;
        });
    }

    private static Command Jobs(Func<ParseResult, CliContext> context)
    {
        var status = new Option<string?>("--status") { Description = "Only jobs in this state" };
        status.AcceptOnlyFromAmong([.. JobStatus.All]);
        var limit = new Option<int?>("--limit") { Description = "Most jobs per page (newest first)" };
        var cursor = new Option<string?>("--cursor") { Description = "Page to show: the cursor the previous page printed" };
        var command = new Command("jobs", """
            List every client's jobs, newest first.

            Examples:
              aitbc admin jobs
              aitbc admin jobs --status failed --output json
            """)
        { status, limit, cursor };
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            if (parse.GetValue(limit) is <= 0)
            {
                throw new CliUsageException("--limit must be a positive number");
            }
            using var coordinator = ctx.CreateCoordinatorClient(CoordinatorKeyKind.Admin);
            var page = await coordinator.GetAdminJobsAsync(parse.GetValue(status), parse.GetValue(limit), parse.GetValue(cursor), cancellationToken);
            ctx.Write(page, console => JobCommands.WriteJobTable(console, page, "aitbc admin jobs", "No jobs."));
            return ExitCodes.Ok;
        });
    }

    private static Command Miners(Func<ParseResult, CliContext> context) =>
        new Command("miners", """
            List every registered miner, online or not, with its endpoint and job counts.

            Examples:
              aitbc admin miners
            """).WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient(CoordinatorKeyKind.Admin);
            var miners = await coordinator.GetAdminMinersAsync(cancellationToken);
            ctx.Write(miners, console => MarketCommands.WriteMiners(console, miners.Miners, admin: true));
            return ExitCodes.Ok;
        });
}
