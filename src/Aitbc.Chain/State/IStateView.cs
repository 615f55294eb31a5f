using Aitbc.Core;

namespace Aitbc.Chain.State;

/// <summary>Read access to ledger state; absent accounts read as <see cref="AccountState.Empty"/>.</summary>
public interface IStateView
{
    AccountState GetAccount(Address address);

    MinerState? GetMiner(Address address);

    EscrowState? GetEscrow(string jobId);

    ReceiptRecord? GetReceipt(string receiptId);
}
