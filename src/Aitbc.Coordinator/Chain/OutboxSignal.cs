namespace Aitbc.Coordinator.Chain;

/// <summary>Wakes the chain writer when an outbox row is queued, so a submission or a refund does not wait for the next poll.</summary>
public sealed class OutboxSignal : Cluster.RelayedSignal;
