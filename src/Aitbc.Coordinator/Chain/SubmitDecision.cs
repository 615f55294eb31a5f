using Aitbc.Core.Transactions;

namespace Aitbc.Coordinator.Chain;

/// <summary>What the chain writer decided about a new job's escrow (its first submit_job broadcast).</summary>
public abstract record SubmitDecision
{
    private SubmitDecision()
    {
    }

    /// <summary>The escrow was admitted (or is on chain, or its broadcast is undecided and the outbox retries it): the job stands.</summary>
    public sealed record Accepted : SubmitDecision;

    /// <summary>The chain refused the escrow: the job was deleted, as if it never existed.</summary>
    public sealed record Refused(TxCode Code, string Log) : SubmitDecision;

    /// <summary>The node could not be asked for the coordinator's nonce, so nothing was signed: the job was deleted.</summary>
    public sealed record Unavailable(string Error) : SubmitDecision;
}
