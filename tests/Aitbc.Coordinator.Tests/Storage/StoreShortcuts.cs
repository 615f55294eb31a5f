using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Tests.Storage;

/// <summary>One-row forms of the store's group methods, for tests that walk a job through its states one step at a time.</summary>
internal static class StoreShortcuts
{
    public static async Task<long> InsertJobAsync(this ICoordinatorStore store, JobRecord job, OutboxRecord submit, CancellationToken cancellationToken) =>
        (await store.InsertJobsAsync([(job, submit)], cancellationToken))[0];

    public static Task DeleteJobAsync(this ICoordinatorStore store, string id, CancellationToken cancellationToken) => store.DeleteJobsAsync([id], cancellationToken);

    public static async Task<OutboxRecord?> NextDueOutboxAsync(this ICoordinatorStore store, long now, CancellationToken cancellationToken) =>
        (await store.DueOutboxAsync(now, 1, cancellationToken)).SingleOrDefault();

    public static Task MarkOutboxSignedAsync(this ICoordinatorStore store, long id, ulong nonce, string txHash, long now, CancellationToken cancellationToken) =>
        store.MarkOutboxSignedAsync([new OutboxSignature(id, nonce, txHash)], now, cancellationToken);

    public static async Task<bool> AssignJobAsync(this ICoordinatorStore store, string jobId, string miner, ulong pricePerSecondMicro, long now, CancellationToken cancellationToken) =>
        (await store.AssignJobsAsync([new JobClaim(jobId, miner, pricePerSecondMicro)], now, cancellationToken)).Count > 0;

    public static async Task<bool> CompleteJobAsync(this ICoordinatorStore store, JobRecord completed, ReceiptRecord receipt, OutboxRecord recordReceipt, CancellationToken cancellationToken) =>
        (await store.CompleteJobsAsync([new CompletedJob(completed, receipt, recordReceipt)], cancellationToken))[0];
}
