namespace Aitbc.Chain.Storage;

/// <summary>
/// How much work a search may still do, in steps of <see cref="InstructionsPerStep"/> SQLite virtual-machine
/// instructions. Counted by SQLite's progress handler, so it bounds every row the query plan reads, sorts or
/// materialises, whatever plan SQLite picks; a search that would pass it stops with
/// <see cref="ScanBudgetExceededException"/>. A budget may draw on a <paramref name="shared"/> one as well, which
/// several searches spend together (a JSON-RPC batch's): a step is spent only when both have it.
/// </summary>
public sealed class ScanBudget(long steps, ScanBudget? shared = null)
{
    /// <summary>How often SQLite calls back: a handful of rows read per step, and a negligible cost per callback.</summary>
    public const int InstructionsPerStep = 1000;

    public long Remaining { get; private set; } = steps;

    /// <summary>Steps spent so far by every search this budget was given to.</summary>
    public long Used { get; private set; }

    /// <summary>True once this budget, or the shared one it draws on, is spent.</summary>
    public bool Exhausted => Remaining <= 0 || shared?.Exhausted == true;

    /// <summary>Counts one step; false once the budget is spent, which makes SQLite interrupt the statement.</summary>
    internal bool TrySpend()
    {
        if (Remaining <= 0 || shared?.TrySpend() == false)
        {
            return false;
        }
        Remaining--;
        Used++;
        return true;
    }
}
