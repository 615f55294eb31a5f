using System.CommandLine;
using System.Globalization;
using Aitbc.Cli.Infrastructure;
using Aitbc.Contracts.Coordinator;
using Spectre.Console;

namespace Aitbc.Cli.Market;

/// <summary><c>aitbc market miners|models|stats</c>: the coordinator's view of supply and demand.</summary>
internal static class MarketCommands
{
    public static Command Build(Func<ParseResult, CliContext> context) => new("market", """
        The marketplace: which miners are online, which models they serve at what price, and totals.

        Examples:
          aitbc market miners
          aitbc market models
          aitbc market stats --output json
        """)
    {
        Miners(context),
        Models(context),
        Stats(context),
    };

    private static Command Miners(Func<ParseResult, CliContext> context) =>
        new Command("miners", """
            List the online miners: models, capacity, price per second, stake and reputation.

            Examples:
              aitbc market miners
              aitbc market miners --output json
            """).WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient();
            var miners = await coordinator.GetMarketMinersAsync(cancellationToken);
            ctx.Write(miners, console => WriteMiners(console, miners.Miners, admin: false));
            return ExitCodes.Ok;
        });

    private static Command Models(Func<ParseResult, CliContext> context) =>
        new Command("models", """
            List the models on offer: how many miners serve each, their price range and free capacity.

            Examples:
              aitbc market models
            """).WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient();
            var models = await coordinator.GetMarketModelsAsync(cancellationToken);
            ctx.Write(models, console =>
            {
                if (models.Models.Count == 0)
                {
                    console.WriteLine("No models on offer: no miner is online.");
                    return;
                }
                var table = new Table().Border(TableBorder.None).AddColumn("MODEL").AddColumn("MINERS").AddColumn("PRICE/S (AITBC)").AddColumn("FREE");
                foreach (var m in models.Models)
                {
                    var price = m.MinPricePerSecond == m.MaxPricePerSecond ? m.MinPricePerSecond : $"{m.MinPricePerSecond}-{m.MaxPricePerSecond}";
                    table.AddRow(Markup.Escape(m.Model), Number(m.Miners), price, Number(m.FreeCapacity));
                }
                console.Write(table);
            });
            return ExitCodes.Ok;
        });

    private static Command Stats(Func<ParseResult, CliContext> context) =>
        new Command("stats", """
            Marketplace totals: miners, capacity, jobs by status, queue depth and AITBC paid.

            Examples:
              aitbc market stats
            """).WithAction(context, async (ctx, _, cancellationToken) =>
        {
            using var coordinator = ctx.CreateCoordinatorClient();
            var stats = await coordinator.GetMarketStatsAsync(cancellationToken);
            ctx.Write(stats, console =>
            {
                CliContext.WriteFields(console,
                    ("Miners online", $"{Number(stats.MinersOnline)} of {Number(stats.MinersTotal)}"),
                    ("Capacity", $"{Number(stats.InFlight)} in flight of {Number(stats.Capacity)}"),
                    ("Queue", Number(stats.QueueDepth)),
                    ("Jobs", stats.JobsTotal.ToString(CultureInfo.InvariantCulture)),
                    ("By status", string.Join(", ", stats.JobsByStatus.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value.ToString(CultureInfo.InvariantCulture)}"))),
                    ("Total paid", $"{stats.TotalPaid} AITBC"));
            });
            return ExitCodes.Ok;
        });

    /// <summary>Miners as a table; admins also see endpoints and job counts.</summary>
    internal static void WriteMiners(IAnsiConsole console, IReadOnlyList<MarketMiner> miners, bool admin)
    {
        if (miners.Count == 0)
        {
            console.WriteLine(admin ? "No miner has registered." : "No miner is online.");
            return;
        }
        var table = new Table().Border(TableBorder.None).AddColumn("ADDRESS").AddColumn("MODELS").AddColumn("LOAD").AddColumn("PRICE/S").AddColumn("STAKE")
            .AddColumn("REPUTATION").AddColumn("ONLINE");
        if (admin)
        {
            table.AddColumn("ENDPOINT").AddColumn("DONE").AddColumn("FAILED");
        }
        foreach (var m in miners)
        {
            var row = new List<string>
            {
                m.Address, Markup.Escape(string.Join(",", m.Models)), $"{Number(m.InFlight)}/{Number(m.Capacity)}", m.PricePerSecond, m.Stake,
                m.Reputation.ToString("0.00", CultureInfo.InvariantCulture), m.Online ? "yes" : "no",
            };
            if (admin)
            {
                row.AddRange([Markup.Escape(m.Endpoint ?? "-"), m.JobsCompleted?.ToString(CultureInfo.InvariantCulture) ?? "-", m.JobsFailed?.ToString(CultureInfo.InvariantCulture) ?? "-"]);
            }
            table.AddRow([.. row]);
        }
        console.Write(table);
    }

    private static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);
}
