using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Coordinator.Views;

/// <summary>Read-only views: receipts, the market, the chain explorer and admin oversight (docs/protocol.md, "Coordinator REST").</summary>
public static class ViewEndpoints
{
    private const int DefaultPageSize = 20;
    private const int MaxPageSize = 100;
    private static readonly string[] AnyRole = [Roles.Client, Roles.Miner, Roles.Admin];

    public static void MapViewEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/receipts/{id}", GetReceiptAsync).WithTags("receipts").RequireApiKey(AnyRole);

        var market = app.MapGroup("/v1/market").WithTags("market").RequireApiKey(AnyRole);
        market.MapGet("/miners", MarketMinersAsync);
        market.MapGet("/models", MarketModelsAsync);
        market.MapGet("/stats", MarketStatsAsync);

        var explorer = app.MapGroup("/v1/explorer").WithTags("explorer").RequireApiKey(AnyRole);
        explorer.MapGet("/blocks", ExplorerBlocksAsync);
        explorer.MapGet("/transactions", ExplorerTransactionsAsync);
        explorer.MapGet("/receipts", ExplorerReceiptsAsync);

        var admin = app.MapGroup("/v1/admin").WithTags("admin").RequireApiKey(Roles.Admin);
        admin.MapGet("/miners", AdminMinersAsync);
        admin.MapGet("/jobs", AdminJobsAsync);
    }

    /// <summary>The receipt for its client, its miner and admins; anyone else is told it does not exist.</summary>
    private static async Task<Results<Ok<JsonNode>, ProblemHttpResult>> GetReceiptAsync(HttpContext context, string id, ICoordinatorStore store, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        var receipt = await store.GetReceiptAsync(id, cancellationToken).ConfigureAwait(false);
        var allowed = receipt is not null && (caller.IsAdmin
            || (caller.Role == Roles.Client && caller.Address == receipt.Client)
            || (caller.Role == Roles.Miner && MinerEndpoints.AddressOf(caller) == receipt.Miner));
        if (!allowed)
        {
            return Problems.NotFound($"no receipt {id}");
        }
        return TypedResults.Ok(WithChain(receipt!));
    }

    private static JsonNode WithChain(ReceiptRecord receipt)
    {
        var node = JsonNode.Parse(receipt.ReceiptJson)!;
        if (receipt.TxHash is { } hash)
        {
            node["chain"] = new JsonObject { ["tx_hash"] = hash, ["block_height"] = receipt.BlockHeight };
        }
        return node;
    }

    private static async Task<Ok<MarketMiners>> MarketMinersAsync(ICoordinatorStore store, MinerStakes stakes, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var online = (await store.ListMinersAsync(cancellationToken).ConfigureAwait(false)).Where(m => MinerEndpoints.IsOnline(m, now, options));
        var miners = new List<MarketMiner>();
        foreach (var miner in online)
        {
            miners.Add(await ToMarketMinerAsync(miner, stakes, now, options, forAdmin: false, cancellationToken).ConfigureAwait(false));
        }
        return TypedResults.Ok(new MarketMiners(miners));
    }

    private static async Task<Ok<MarketModels>> MarketModelsAsync(ICoordinatorStore store, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var online = (await store.ListMinersAsync(cancellationToken).ConfigureAwait(false)).Where(m => MinerEndpoints.IsOnline(m, now, options)).ToList();
        var held = await HeldCountsAsync(store, cancellationToken).ConfigureAwait(false);
        var models = online.SelectMany(m => m.Models.Select(model => (model, m)))
            .GroupBy(p => p.model, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new MarketModel(g.Key, g.Count(), new Amount(g.Min(p => p.m.PricePerSecondMicro)).ToAitbcString(),
                new Amount(g.Max(p => p.m.PricePerSecondMicro)).ToAitbcString(), g.Sum(p => Math.Max(0, p.m.Capacity - held.GetValueOrDefault(p.m.Address)))))
            .ToList();
        return TypedResults.Ok(new MarketModels(models));
    }

    private static async Task<Ok<MarketStats>> MarketStatsAsync(ICoordinatorStore store, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var miners = await store.ListMinersAsync(cancellationToken).ConfigureAwait(false);
        var online = miners.Where(m => MinerEndpoints.IsOnline(m, now, options)).ToList();
        var counts = await store.JobCountsByStatusAsync(cancellationToken).ConfigureAwait(false);
        var held = await HeldCountsAsync(store, cancellationToken).ConfigureAwait(false);
        var paid = await store.TotalPaidAsync(cancellationToken).ConfigureAwait(false);
        return TypedResults.Ok(new MarketStats(online.Count, miners.Count, online.Sum(m => m.Capacity), online.Sum(m => held.GetValueOrDefault(m.Address)),
            counts.Values.Sum(), counts, (int)counts.GetValueOrDefault(JobStatus.Pending), new Amount(paid).ToAitbcString()));
    }

    private static async Task<Results<Ok<ExplorerBlocks>, ValidationProblem, ProblemHttpResult>> ExplorerBlocksAsync(
        [FromQuery] string? cursor, [FromQuery] string? limit, NodeClient node, CancellationToken cancellationToken)
    {
        if (PageErrors(TryPage(limit, out var size, 20), TryLong(cursor, out var before) && before is null or > 0, 20) is { } errors)
        {
            return Problems.Validation(errors);
        }
        try
        {
            var latest = (await node.GetBlockchainAsync(null, null, cancellationToken).ConfigureAwait(false)).LastHeight;
            var max = before is { } b ? Math.Min(b - 1, latest) : latest;
            if (max < 1)
            {
                return TypedResults.Ok(new ExplorerBlocks([], latest, null));
            }
            var min = Math.Max(1, max - size + 1);
            var page = await node.GetBlockchainAsync(min, max, cancellationToken).ConfigureAwait(false);
            var blocks = page.BlockMetas.OrderByDescending(m => m.Header.Height)
                .Select(m => new ExplorerBlock(m.Header.Height, m.Hash, m.Header.Time, m.NumTxs, m.Header.ProposerAddress)).ToList();
            return TypedResults.Ok(new ExplorerBlocks(blocks, latest, min > 1 ? min.ToString(CultureInfo.InvariantCulture) : null));
        }
        catch (NodeClientException e)
        {
            return Problems.Unavailable($"the node cannot be read: {e.Message}");
        }
    }

    private static async Task<Results<Ok<ExplorerTransactions>, ValidationProblem, ProblemHttpResult>> ExplorerTransactionsAsync(
        [FromQuery] string? cursor, [FromQuery] string? limit, NodeClient node, CancellationToken cancellationToken)
    {
        if (PageErrors(TryPage(limit, out var size, MaxPageSize), TryLong(cursor, out var pageNumber) && pageNumber is null or (> 0 and < 100_000), MaxPageSize) is { } errors)
        {
            return Problems.Validation(errors);
        }
        try
        {
            var page = (int)(pageNumber ?? 1);
            var found = await node.SearchTxsAsync("tx.height>0", page, size, descending: true, cancellationToken).ConfigureAwait(false);
            var txs = found.Txs.Select(t =>
            {
                var tx = t.Decode();
                return new ExplorerTransaction(t.Hash, t.Height, tx?.Tx.Type ?? "unknown", tx?.Sender.Value ?? "", (int)t.Result.Code, string.IsNullOrEmpty(t.Result.Log) ? null : t.Result.Log);
            }).ToList();
            var next = (long)page * size < found.TotalCount ? (page + 1).ToString(CultureInfo.InvariantCulture) : null;
            return TypedResults.Ok(new ExplorerTransactions(txs, next));
        }
        catch (NodeClientException e)
        {
            return Problems.Unavailable($"the node cannot be read: {e.Message}");
        }
    }

    private static async Task<Results<Ok<ExplorerReceipts>, ValidationProblem>> ExplorerReceiptsAsync(
        [FromQuery] string? cursor, [FromQuery] string? limit, ICoordinatorStore store, CancellationToken cancellationToken)
    {
        TimeCursor? before = null;
        if (PageErrors(TryPage(limit, out var size, MaxPageSize), cursor is null || TryDecodeCursor(cursor, out before), MaxPageSize) is { } errors)
        {
            return Problems.Validation(errors);
        }
        var rows = await store.ListReceiptsAsync(before, size + 1, cancellationToken).ConfigureAwait(false);
        var page = rows.Take(size).ToList();
        var receipts = page.Select(r =>
        {
            using var json = JsonDocument.Parse(r.ReceiptJson);
            return new ExplorerReceipt(r.Id, r.JobId, r.Miner, r.Client, json.RootElement.GetProperty("amount_paid").GetString()!, r.TxHash, r.BlockHeight, Timestamps.Format(r.IssuedAt));
        }).ToList();
        var next = rows.Count > size ? EncodeCursor(page[^1].IssuedAt, page[^1].Id) : null;
        return TypedResults.Ok(new ExplorerReceipts(receipts, next));
    }

    private static async Task<Ok<MarketMiners>> AdminMinersAsync(ICoordinatorStore store, MinerStakes stakes, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var miners = new List<MarketMiner>();
        foreach (var miner in await store.ListMinersAsync(cancellationToken).ConfigureAwait(false))
        {
            miners.Add(await ToMarketMinerAsync(miner, stakes, now, options, forAdmin: true, cancellationToken).ConfigureAwait(false));
        }
        return TypedResults.Ok(new MarketMiners(miners));
    }

    private static async Task<Results<Ok<JobPage>, ValidationProblem>> AdminJobsAsync(
        [FromQuery] string? status, [FromQuery] string? cursor, [FromQuery] string? limit, ICoordinatorStore store, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (!TryPage(limit, out var size, MaxPageSize))
        {
            errors["limit"] = [$"limit must be 1 to {MaxPageSize}"];
        }
        if (status is not null && status is not (JobStatus.Pending or JobStatus.Assigned or JobStatus.Running or JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled))
        {
            errors["status"] = ["status must be pending, assigned, running, completed, failed or cancelled"];
        }
        TimeCursor? after = null;
        if (cursor is not null && !TryDecodeCursor(cursor, out after))
        {
            errors["cursor"] = ["cursor must be a next_cursor"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var rows = await store.ListAllJobsAsync(status, after is null ? null : new JobCursor(after.At, after.Id), size + 1, cancellationToken).ConfigureAwait(false);
        var page = rows.Take(size).ToList();
        var next = rows.Count > size ? EncodeCursor(page[^1].SubmittedAt, page[^1].Id) : null;
        return TypedResults.Ok(new JobPage([.. page.Select(j => JobView.From(j, forAdmin: true))], next));
    }

    private static async Task<MarketMiner> ToMarketMinerAsync(MinerRecord miner, MinerStakes stakes, long now, CoordinatorOptions options, bool forAdmin, CancellationToken cancellationToken)
    {
        var stake = await stakes.GetAsync(miner.Address, cancellationToken).ConfigureAwait(false) ?? Amount.Zero;
        return new MarketMiner(miner.Address, miner.Models, miner.Capacity, miner.InFlight, new Amount(miner.PricePerSecondMicro).ToAitbcString(), stake.ToAitbcString(),
            Math.Round(miner.Reputation, 4), MinerEndpoints.IsOnline(miner, now, options), Timestamps.Format(miner.LastSeen))
        {
            Gpu = miner.GpuJson is null ? null : JsonSerializer.Deserialize<GpuDescription>(miner.GpuJson, RestJson.Options),
            GpuUtilization = miner.GpuUtilization,
            Endpoint = forAdmin ? miner.Endpoint : null,
            JobsCompleted = forAdmin ? miner.JobsCompleted : null,
            JobsFailed = forAdmin ? miner.JobsFailed + miner.JobsTimedOut : null,
        };
    }

    private static async Task<Dictionary<string, int>> HeldCountsAsync(ICoordinatorStore store, CancellationToken cancellationToken) =>
        (await store.ActiveJobsAsync(cancellationToken).ConfigureAwait(false)).Where(j => j.Miner is not null)
            .GroupBy(j => j.Miner!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    private static Dictionary<string, string[]>? PageErrors(bool limitOk, bool cursorOk, int max)
    {
        var errors = new Dictionary<string, string[]>();
        if (!limitOk)
        {
            errors["limit"] = [$"limit must be an integer from 1 to {max}"];
        }
        if (!cursorOk)
        {
            errors["cursor"] = ["cursor must be a next_cursor from an earlier page"];
        }
        return errors.Count > 0 ? errors : null;
    }

    private static bool TryPage(string? text, out int size, int max)
    {
        size = Math.Min(DefaultPageSize, max);
        return text is null || (QueryNumbers.TryParse(text, out size) && size >= 1 && size <= max);
    }

    private static bool TryLong(string? text, out long? value)
    {
        value = null;
        if (text is null)
        {
            return true;
        }
        if (QueryNumbers.TryParse(text, out long v))
        {
            value = v;
            return true;
        }
        return false;
    }

    private static string EncodeCursor(long at, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{at}:{id}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecodeCursor(string text, out TimeCursor? cursor)
    {
        cursor = null;
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - (padded.Length % 4)) % 4);
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && QueryNumbers.TryParse(decoded.AsSpan(0, colon), out long at))
            {
                cursor = new TimeCursor(at, decoded[(colon + 1)..]);
                return true;
            }
        }
        catch (FormatException)
        {
        }
        return false;
    }
}
