using System.Text.Json;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;

namespace Aitbc.Coordinator.Chain;

/// <summary>New outbox rows: unsigned, due now; the chain writer signs them in order.</summary>
public static class OutboxRows
{
    public static OutboxRecord SubmitJob(SubmitJobBody body, long now) =>
        New(body.JobId, OutboxKind.SubmitJob, JsonSerializer.Serialize(body, WireJson.Options), now);

    public static OutboxRecord Refund(string jobId, string reason, long now) =>
        New(jobId, OutboxKind.RefundJob, JsonSerializer.Serialize(new RefundJobBody(jobId, reason), WireJson.Options), now);

    public static OutboxRecord RecordReceipt(RecordReceiptBody body, long now) =>
        New(body.JobId, OutboxKind.RecordReceipt, JsonSerializer.Serialize(body, WireJson.Options), now);

    private static OutboxRecord New(string jobId, string kind, string bodyJson, long now) =>
        new(0, jobId, kind, bodyJson, OutboxStatus.Pending, 0, null, null, null, null, now, now, null);
}
