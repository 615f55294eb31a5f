namespace Aitbc.Node.Rpc;

/// <summary>
/// What one JSON-RPC request may make the node build: bytes of answer per call and per batch, and search work
/// (<see cref="Aitbc.Chain.Storage.ScanBudget"/> steps) per <c>tx_search</c> call and per batch. A call past a limit is
/// answered with a <see cref="RpcErrorCode.LimitExceeded"/> error naming it; the node option of each is in its text.
/// </summary>
public sealed record RpcLimits
{
    /// <summary>
    /// The most one call's answer may hold: room for the largest block the default genesis allows (10,000
    /// transactions of 16 KiB are about 220 MB of base64), so that any block can be read, and followed, one at a time.
    /// </summary>
    public long MaxAnswerBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>
    /// The most a batch's answers may hold together. A batch's first call is answered up to <see cref="MaxAnswerBytes"/>
    /// even when it passes this alone, so that a follower reading blocks in batches always gets one.
    /// </summary>
    public long MaxBatchAnswerBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// The most search work one <c>tx_search</c> call may do: 10^8 SQLite instructions, room for a query matching
    /// millions of transactions (measured: about 15 instructions a matched event, 3.5 a transaction of a height range).
    /// </summary>
    public long MaxSearchSteps { get; init; } = 100_000;

    /// <summary>The most search work a batch's <c>tx_search</c> calls may do together: two calls' worth.</summary>
    public long MaxBatchSearchSteps { get; init; } = 200_000;

    internal const string AnswerBytesOption = "--rpc-max-answer-bytes";
    internal const string BatchAnswerBytesOption = "--rpc-max-batch-answer-bytes";
    internal const string SearchStepsOption = "--rpc-max-search-steps";
    internal const string BatchSearchStepsOption = "--rpc-max-batch-search-steps";
}
