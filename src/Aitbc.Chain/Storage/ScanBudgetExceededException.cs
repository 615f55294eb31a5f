namespace Aitbc.Chain.Storage;

/// <summary>A search stopped because it would have read more than its <see cref="ScanBudget"/> allowed.</summary>
public sealed class ScanBudgetExceededException(long steps)
    : Exception($"the search passed its budget of {steps} steps of {ScanBudget.InstructionsPerStep} SQLite instructions")
{
    /// <summary>The steps the search had spent when it was stopped.</summary>
    public long Steps { get; } = steps;
}
