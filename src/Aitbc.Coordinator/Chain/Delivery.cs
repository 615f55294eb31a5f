using Aitbc.Core.Transactions;

namespace Aitbc.Coordinator.Chain;

/// <summary>What became of one attempt to put an outbox transaction on chain.</summary>
public abstract record Delivery
{
    private Delivery()
    {
    }

    /// <summary>Admitted to the mempool (or already there); its block comes later.</summary>
    public sealed record Sent(string TxHash) : Delivery;

    /// <summary>Found in a block (a previous attempt landed); <paramref name="Code"/> is its execution result.</summary>
    public sealed record Committed(long Height, TxCode Code, string Log) : Delivery;

    /// <summary>The chain says the effect already happened (the escrow exists, or is closed): nothing left to send.</summary>
    public sealed record AlreadyDone(TxCode Code, string Log) : Delivery;

    /// <summary>The chain will never accept it (no allowance, no funds, not a coordinator).</summary>
    public sealed record Refused(TxCode Code, string Log) : Delivery;

    /// <summary>Not decided: the node was unreachable or busy, or (<paramref name="StaleNonce"/>) our nonce was wrong. Try again later.</summary>
    public sealed record Transient(string Error, bool StaleNonce = false) : Delivery;
}
