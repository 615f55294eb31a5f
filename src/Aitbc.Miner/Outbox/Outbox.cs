using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Threading;

namespace Aitbc.Miner.Outbox;

/// <summary>Writes a job's messages to the <see cref="OutboxStore"/> and wakes the <see cref="OutboxWorker"/> to send them.</summary>
public sealed class Outbox(OutboxStore store, TimeProvider time)
{
    private readonly WakeSignal _signal = new();

    public OutboxStore Store { get; } = store;

    public void Running(string jobId, JobStatusUpdate update) => Add(jobId, OutboxKind.Status, update);

    public void Complete(string jobId, JobCompletion completion) => Add(jobId, OutboxKind.Complete, completion);

    public void Fail(string jobId, JobFailure failure) => Add(jobId, OutboxKind.Fail, failure);

    /// <summary>Wakes the worker now (a new message), instead of at its next poll.</summary>
    public void Notify() => _signal.Kick();

    /// <summary>Waits for <see cref="Notify"/> or the timeout.</summary>
    internal Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, TimeProvider.System, cancellationToken);

    private void Add<T>(string jobId, OutboxKind kind, T message)
    {
        Store.Add(jobId, kind, JsonSerializer.Serialize(message, RestJson.Options), time.GetUtcNow().ToUnixTimeMilliseconds());
        Notify();
    }
}
