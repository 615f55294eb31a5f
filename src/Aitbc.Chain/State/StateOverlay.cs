using Aitbc.Core;

namespace Aitbc.Chain.State;

/// <summary>
/// Pending writes over a base view: a block being executed, or the mempool's check state. Tracks how much
/// money its writes moved into or out of existence, so the supply invariant can be checked per block in O(changes).
/// </summary>
public sealed class StateOverlay(IStateView parent) : IStateView
{
    private readonly Dictionary<Address, AccountState> _accounts = [];
    private readonly Dictionary<Address, MinerState> _miners = [];
    private readonly Dictionary<string, EscrowState> _escrows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReceiptRecord> _receipts = new(StringComparer.Ordinal);

    /// <summary>Net change of Σ balances + Σ open escrow + Σ stake (bonded and unbonding); must stay zero.</summary>
    public decimal SupplyDelta { get; private set; }

    public AccountState GetAccount(Address address) =>
        _accounts.TryGetValue(address, out var a) ? a : parent.GetAccount(address);

    public MinerState? GetMiner(Address address) =>
        _miners.TryGetValue(address, out var m) ? m : parent.GetMiner(address);

    public EscrowState? GetEscrow(string jobId) =>
        _escrows.TryGetValue(jobId, out var e) ? e : parent.GetEscrow(jobId);

    public ReceiptRecord? GetReceipt(string receiptId) =>
        _receipts.TryGetValue(receiptId, out var r) ? r : parent.GetReceipt(receiptId);

    public void SetAccount(Address address, AccountState account)
    {
        SupplyDelta += (decimal)account.Balance.Micro - GetAccount(address).Balance.Micro;
        _accounts[address] = account;
    }

    public void SetMiner(MinerState miner)
    {
        SupplyDelta += Held(miner) - Held(GetMiner(miner.Address));
        _miners[miner.Address] = miner;
    }

    private static decimal Held(MinerState? miner) => miner is null ? 0 : (decimal)miner.Stake.Micro + miner.UnbondingTotal.Micro;

    public void SetEscrow(EscrowState escrow)
    {
        var before = GetEscrow(escrow.JobId);
        SupplyDelta += (escrow.IsOpen ? (decimal)escrow.Amount.Micro : 0) - (before is { IsOpen: true } ? before.Amount.Micro : 0);
        _escrows[escrow.JobId] = escrow;
    }

    public void SetReceipt(ReceiptRecord receipt) => _receipts[receipt.ReceiptId] = receipt;

    public bool IsEmpty => Size == 0;

    /// <summary>How many entries the overlay holds.</summary>
    public int Size => _accounts.Count + _miners.Count + _escrows.Count + _receipts.Count;

    /// <summary>The overlay's writes in (kind, key) order.</summary>
    public List<StateChange> Changes()
    {
        var changes = new List<StateChange>(_accounts.Count + _miners.Count + _escrows.Count + _receipts.Count);
        changes.AddRange(_accounts.Select(kv => new StateChange(StateKind.Account, kv.Key.Value, kv.Value)));
        changes.AddRange(_miners.Select(kv => new StateChange(StateKind.Miner, kv.Key.Value, kv.Value)));
        changes.AddRange(_escrows.Select(kv => new StateChange(StateKind.Escrow, kv.Key, kv.Value)));
        changes.AddRange(_receipts.Select(kv => new StateChange(StateKind.Receipt, kv.Key, kv.Value)));
        changes.Sort(StateChange.Compare);
        return changes;
    }
}
