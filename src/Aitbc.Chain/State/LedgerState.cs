using System.Text.Json;
using Aitbc.Core;
using Aitbc.Core.Json;

namespace Aitbc.Chain.State;

/// <summary>
/// The committed state in memory. Only the block committer writes it, and only through <see cref="Apply"/>;
/// anyone may read it between commits.
/// </summary>
public sealed class LedgerState : IStateView
{
    private readonly Dictionary<Address, AccountState> _accounts = [];
    private readonly Dictionary<Address, MinerState> _miners = [];
    private readonly Dictionary<string, EscrowState> _escrows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ReceiptRecord> _receipts = new(StringComparer.Ordinal);

    // The miners with stake unbonding: each block looks only at these for releases that have come due.
    private readonly HashSet<Address> _unbonding = [];

    public int AccountCount => _accounts.Count;

    public int EscrowCount => _escrows.Count;

    public AccountState GetAccount(Address address) => _accounts.GetValueOrDefault(address) ?? AccountState.Empty;

    public MinerState? GetMiner(Address address) => _miners.GetValueOrDefault(address);

    public EscrowState? GetEscrow(string jobId) => _escrows.GetValueOrDefault(jobId);

    public ReceiptRecord? GetReceipt(string receiptId) => _receipts.GetValueOrDefault(receiptId);

    public IEnumerable<MinerState> Miners => _miners.Values;

    /// <summary>The addresses of the miners with stake unbonding, in address order.</summary>
    public IReadOnlyList<Address> MinersUnbonding => [.. _unbonding.OrderBy(a => a.Value, StringComparer.Ordinal)];

    public void Apply(IEnumerable<StateChange> changes)
    {
        foreach (var change in changes)
        {
            Set(change.Kind, change.Key, change.Value);
        }
    }

    /// <summary>Restores one stored entry (at start-up).</summary>
    public void Load(string kind, string key, ReadOnlySpan<byte> json)
    {
        object value = kind switch
        {
            StateKind.Account => JsonSerializer.Deserialize<AccountState>(json, WireJson.Options)!,
            StateKind.Miner => JsonSerializer.Deserialize<MinerState>(json, WireJson.Options)!,
            StateKind.Escrow => JsonSerializer.Deserialize<EscrowState>(json, WireJson.Options)!,
            StateKind.Receipt => JsonSerializer.Deserialize<ReceiptRecord>(json, WireJson.Options)!,
            _ => throw new InvalidDataException($"unknown state kind '{kind}'"),
        };
        Set(kind, key, value);
    }

    private void Set(string kind, string key, object value)
    {
        switch (value)
        {
            case AccountState account:
                _accounts[Address.Parse(key)] = account;
                break;
            case MinerState miner:
                var minerAddress = Address.Parse(key);
                _miners[minerAddress] = miner;
                if (miner.Unbonding is { Count: > 0 })
                {
                    _unbonding.Add(minerAddress);
                }
                else
                {
                    _unbonding.Remove(minerAddress);
                }
                break;
            case EscrowState escrow:
                _escrows[key] = escrow;
                break;
            case ReceiptRecord receipt:
                _receipts[key] = receipt;
                break;
            default:
                throw new InvalidDataException($"unknown state value for {kind}/{key}");
        }
    }

    /// <summary>Σ balances + Σ open escrow + Σ stake (bonded and unbonding), counted from scratch.</summary>
    public Amount ComputeSupply()
    {
        var total = Amount.Zero;
        foreach (var account in _accounts.Values)
        {
            total += account.Balance;
        }
        foreach (var escrow in _escrows.Values)
        {
            if (escrow.IsOpen)
            {
                total += escrow.Amount;
            }
        }
        foreach (var miner in _miners.Values)
        {
            total += miner.Stake + miner.UnbondingTotal;
        }
        return total;
    }
}
