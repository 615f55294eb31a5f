using Aitbc.Core;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The value of <c>abci_query /account/{address}</c>: balance, nonce of the account's last transaction, the allowances
/// it granted (keyed by the spender's bech32 address) and its stake as a miner.
/// </summary>
public sealed record LedgerAccount(Address Address, Amount Balance, ulong Nonce, IReadOnlyDictionary<string, Amount> Allowances, Amount Stake);
