using System.Globalization;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core;
using Aitbc.Miner.Outbox;

namespace Aitbc.Faults.Tests;

/// <summary>The client's balance and each miner's balance plus stake, before a scenario.</summary>
public sealed record BalanceSnapshot(Amount Client, IReadOnlyList<Amount> Miners);

/// <summary>One scenario's outcome: what the load did, what was injected, and every invariant that did not hold.</summary>
public sealed record ScenarioReport(
    string Scenario,
    string Faults,
    LoadResult Load,
    IReadOnlyDictionary<string, int> ByState,
    IReadOnlyDictionary<string, int> FailureReasons,
    int Lost,
    Amount Paid,
    IReadOnlyList<string> Violations)
{
    public override string ToString() =>
        $"{Scenario}: {Faults}; jobs accepted {Load.Accepted.Count} (refused {Load.Refused}, unresolved {Load.Unresolved}); "
        + string.Join(", ", ByState.OrderBy(s => s.Key, StringComparer.Ordinal).Select(s => $"{s.Key} {s.Value}"))
        + (FailureReasons.Count == 0 ? "" : " (" + string.Join(", ", FailureReasons.OrderByDescending(r => r.Value).Select(r => $"{r.Key} ×{r.Value}")) + ")")
        + $"; lost {Lost}; paid {Paid.ToAitbcString()} AITBC; violations {Violations.Count}"
        + (Violations.Count == 0 ? "" : ":\n  " + string.Join("\n  ", Violations.Take(20)));
}

/// <summary>
/// The invariants every scenario must leave standing, checked once the load stopped and the faults healed:
/// 1. every accepted job reaches exactly one terminal state within its deadline plus <see cref="Grace"/>, and keeps it;
/// 2. the supply adds up: Σ balances + Σ stakes + Σ open escrow of the genesis accounts and all jobs = genesis supply;
/// 3. each job's escrow is closed exactly once: paid per the coordinator's receipt (miner, amount, result hash) for a
///    completed job, refunded in full for a failed or cancelled one, none left open;
/// 4. every miner's outbox is empty;
/// 5. the client lost exactly what the miners gained, and each miner gained exactly what its receipts paid.
/// </summary>
public sealed class InvariantChecker(FaultNetwork net)
{
    /// <summary>Slack past a job's deadline for the coordinator to notice it (a restart included).</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(30);

    /// <summary>How long after the jobs ended their escrows and outboxes may take to settle (a resend after a node restart included).</summary>
    public static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(90);

    public async Task<BalanceSnapshot> SnapshotAsync()
    {
        var client = (await net.Node.GetAccountAsync(net.Net.ClientKey.Address)).Balance;
        var miners = new List<Amount>();
        foreach (var key in net.Net.MinerKeys)
        {
            var account = await net.Node.GetAccountAsync(key.Address);
            miners.Add(account.Balance + account.Stake);
        }
        return new BalanceSnapshot(client, miners);
    }

    public async Task<ScenarioReport> CheckAsync(string scenario, string faults, LoadResult load, BalanceSnapshot before)
    {
        var violations = new List<string>();
        using var admin = net.Net.AdminApi();

        // 1. Terminal within deadline + grace.
        var first = await WaitTerminalAsync(admin, load.Accepted);
        var lost = new HashSet<string>(load.Accepted.Where(id => !first.ContainsKey(id)), StringComparer.Ordinal);
        violations.AddRange(lost.Select(id => $"job {id} never reached a terminal state"));
        foreach (var (id, view) in first)
        {
            if (Time(view.CompletedAt!) > Time(view.Deadline) + Grace)
            {
                violations.Add($"job {id} ended {view.Status} at {view.CompletedAt}, past its deadline {view.Deadline} + {Grace.TotalSeconds} s");
            }
        }

        // 3 (wait). Escrows closed; 4 (wait). Outboxes drained.
        var escrows = await WaitEscrowsClosedAsync(first);
        var outboxes = await WaitOutboxesEmptyAsync();

        var paid = Amount.Zero;
        var paidTo = net.Net.MinerKeys.ToDictionary(k => k.Address.Value, _ => Amount.Zero, StringComparer.Ordinal);
        foreach (var (id, view) in first)
        {
            var now = await admin.GetJobAsync(id);
            if (now.Status != view.Status || now.Cost != view.Cost || now.ReceiptId != view.ReceiptId)
            {
                violations.Add($"job {id} changed after it ended: {view.Status} (cost {view.Cost}) → {now.Status} (cost {now.Cost})");
            }
            escrows.TryGetValue(id, out var escrow);
            if (escrow is null)
            {
                // Only a job whose escrow the chain refused has none, and it must have failed saying so.
                if (view.Status != JobStatus.Failed || view.Error?.Contains("refused the job's escrow", StringComparison.Ordinal) != true)
                {
                    violations.Add($"job {id} ({view.Status}) has no escrow on chain");
                    lost.Add(id);
                }
                continue;
            }
            if (escrow.Status == EscrowStatus.Open)
            {
                violations.Add($"job {id} ({view.Status}) escrow still open");
                lost.Add(id);
                continue;
            }
            var paidHere = escrow.Paid ?? Amount.Zero;
            var refunded = escrow.Refunded ?? Amount.Zero;
            if (paidHere + refunded != escrow.Amount)
            {
                violations.Add($"job {id}: escrow {escrow.Amount.ToMicroString()} closed as paid {paidHere.ToMicroString()} + refunded {refunded.ToMicroString()}");
            }
            if (view.Status == JobStatus.Completed)
            {
                violations.AddRange(await CheckReceiptAsync(admin, id, view, escrow));
                paid += paidHere;
                if (view.Miner is { } miner && paidTo.ContainsKey(miner))
                {
                    paidTo[miner] += paidHere;
                }
            }
            else if (escrow.Status != EscrowStatus.Refunded || !paidHere.IsZero)
            {
                violations.Add($"job {id} ended {view.Status} but its escrow is {escrow.Status} (paid {paidHere.ToMicroString()})");
            }
        }

        violations.AddRange(outboxes);
        violations.AddRange(await CheckSupplyAsync());
        violations.AddRange(await CheckBalancesAsync(before, paid, paidTo));
        violations.AddRange(await CheckNoPhantomJobsAsync(admin));
        if (load.Unresolved > 0)
        {
            violations.Add($"{load.Unresolved} submissions were never answered");
        }
        var byState = first.Values.GroupBy(v => v.Status, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var reasons = first.Values.Where(v => v.Error is not null).GroupBy(v => v.Error!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        return new ScenarioReport(scenario, faults, load, byState, reasons, lost.Count, paid, violations);
    }

    /// <summary>Polls every accepted job until terminal; gives up at the latest deadline plus <see cref="Grace"/>.</summary>
    private static async Task<Dictionary<string, JobView>> WaitTerminalAsync(CoordinatorClient admin, IReadOnlyList<string> jobs)
    {
        var terminal = new Dictionary<string, JobView>(StringComparer.Ordinal);
        var waiting = new HashSet<string>(jobs, StringComparer.Ordinal);
        var giveUpAt = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(LoadDriver.TtlSeconds) + Grace;
        while (waiting.Count > 0 && DateTimeOffset.UtcNow < giveUpAt)
        {
            foreach (var id in waiting.ToList())
            {
                try
                {
                    var view = await admin.GetJobAsync(id);
                    if (view.IsTerminal)
                    {
                        terminal[id] = view;
                        waiting.Remove(id);
                    }
                    else
                    {
                        giveUpAt = Max(giveUpAt, Time(view.Deadline) + Grace);
                    }
                }
                catch (RestClientException)
                {
                    // The coordinator is restarting: ask again on the next round.
                }
            }
            if (waiting.Count > 0)
            {
                await Task.Delay(250);
            }
        }
        return terminal;
    }

    private async Task<Dictionary<string, EscrowInfo?>> WaitEscrowsClosedAsync(Dictionary<string, JobView> jobs)
    {
        var escrows = new Dictionary<string, EscrowInfo?>(StringComparer.Ordinal);
        var giveUpAt = DateTime.UtcNow + SettleTimeout;
        var open = jobs.Keys.ToHashSet(StringComparer.Ordinal);
        while (open.Count > 0)
        {
            foreach (var id in open.ToList())
            {
                var escrow = await net.Node.GetEscrowAsync(id);
                escrows[id] = escrow;
                var refusedOnChain = escrow is null && jobs[id].Error?.Contains("refused the job's escrow", StringComparison.Ordinal) == true;
                if (escrow is { Status: not EscrowStatus.Open } || refusedOnChain)
                {
                    open.Remove(id);
                }
            }
            if (open.Count == 0 || DateTime.UtcNow > giveUpAt)
            {
                break;
            }
            await Task.Delay(250);
        }
        return escrows;
    }

    private async Task<List<string>> WaitOutboxesEmptyAsync()
    {
        var giveUpAt = DateTime.UtcNow + SettleTimeout;
        while (true)
        {
            var left = new List<string>();
            foreach (var path in net.MinerOutboxes())
            {
                using var outbox = new OutboxStore(path);
                if (outbox.Count() is var count and > 0)
                {
                    left.Add($"miner outbox {path} still holds {count} message(s)");
                }
            }
            if (left.Count == 0 || DateTime.UtcNow > giveUpAt)
            {
                return left;
            }
            await Task.Delay(250);
        }
    }

    private async Task<List<string>> CheckReceiptAsync(CoordinatorClient admin, string id, JobView view, EscrowInfo escrow)
    {
        var violations = new List<string>();
        if (escrow.Status != EscrowStatus.Paid || view.ReceiptId is null || escrow.ReceiptId != view.ReceiptId)
        {
            return [$"job {id} completed (receipt {view.ReceiptId}) but its escrow is {escrow.Status} (receipt {escrow.ReceiptId})"];
        }
        var mine = await admin.GetReceiptAsync(view.ReceiptId);
        var onChain = await net.Node.GetReceiptAsync(view.ReceiptId);
        if (onChain is null)
        {
            return [$"job {id}: receipt {view.ReceiptId} is not on chain"];
        }
        if (onChain.Miner != mine.Miner || onChain.AmountPaid != Amount.ParseAitbc(mine.AmountPaid) || onChain.ResultHash != mine.ResultHash || onChain.JobId != id)
        {
            violations.Add($"job {id}: chain receipt (miner {onChain.Miner}, {onChain.AmountPaid.ToMicroString()}, {onChain.ResultHash}) differs from the coordinator's "
                + $"(miner {mine.Miner}, {mine.AmountPaid} AITBC, {mine.ResultHash})");
        }
        if (view.Cost is null || Amount.ParseAitbc(view.Cost) != escrow.Paid)
        {
            violations.Add($"job {id}: cost {view.Cost} AITBC but the escrow paid {escrow.Paid?.ToMicroString()} uaitbc");
        }
        if (view.Miner != onChain.Miner.Value)
        {
            violations.Add($"job {id} ran on {view.Miner} but {onChain.Miner} was paid");
        }
        return violations;
    }

    /// <summary>The node's own supply check, and the same sum made here from the genesis accounts and every job's open escrow.</summary>
    private async Task<List<string>> CheckSupplyAsync()
    {
        var violations = new List<string>();
        var supply = await net.Node.GetSupplyAsync();
        if (!supply.IsBalanced || supply.TotalSupply != net.Net.TotalSupply)
        {
            violations.Add($"node supply: total {supply.TotalSupply.ToMicroString()} counted {supply.Counted.ToMicroString()} (genesis {net.Net.TotalSupply.ToMicroString()})");
        }
        var counted = Amount.Zero;
        foreach (var address in net.Net.MinerKeys.Select(k => k.Address).Append(net.Net.ClientKey.Address).Append(net.Net.CoordinatorKey.Address))
        {
            var account = await net.Node.GetAccountAsync(address);
            counted += account.Balance + account.Stake;
        }
        foreach (var id in net.AcceptedEver.Keys)
        {
            if (await net.Node.GetEscrowAsync(id) is { Status: EscrowStatus.Open } open)
            {
                counted += open.Amount;
            }
        }
        if (counted != net.Net.TotalSupply)
        {
            violations.Add($"supply: balances + stakes + open escrow = {counted.ToMicroString()} uaitbc, genesis {net.Net.TotalSupply.ToMicroString()}");
        }
        return violations;
    }

    private async Task<List<string>> CheckBalancesAsync(BalanceSnapshot before, Amount paid, Dictionary<string, Amount> paidTo)
    {
        var after = await SnapshotAsync();
        var violations = new List<string>();
        if (before.Client - after.Client != paid)
        {
            violations.Add($"client paid {(before.Client - after.Client).ToMicroString()} uaitbc, receipts say {paid.ToMicroString()}");
        }
        for (var i = 0; i < after.Miners.Count; i++)
        {
            var expected = paidTo[net.Net.MinerKeys[i].Address.Value];
            if (after.Miners[i] - before.Miners[i] != expected)
            {
                violations.Add($"miner {i + 1} gained {(after.Miners[i] - before.Miners[i]).ToMicroString()} uaitbc, its receipts paid {expected.ToMicroString()}");
            }
        }
        return violations;
    }

    /// <summary>The coordinator holds no job that no client saw accepted (a retry that made a second job, say).</summary>
    private async Task<List<string>> CheckNoPhantomJobsAsync(CoordinatorClient admin)
    {
        var violations = new List<string>();
        string? cursor = null;
        do
        {
            var page = await admin.GetAdminJobsAsync(limit: 100, cursor: cursor);
            violations.AddRange(page.Jobs.Where(j => !net.AcceptedEver.ContainsKey(j.JobId)).Select(j => $"coordinator holds job {j.JobId} ({j.Status}) that no client saw accepted"));
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return violations;
    }

    private static DateTimeOffset Time(string rfc3339) => DateTimeOffset.Parse(rfc3339, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
