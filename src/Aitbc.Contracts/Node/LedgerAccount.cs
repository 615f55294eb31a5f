using Aitbc.Core;

namespace Aitbc.Contracts.Node;

/// <summary>
/// The value of <c>abci_query /account/{address}</c>: balance, nonce of the account's last transaction, the allowances
/// it granted (keyed by the spender's bech32 address), its bonded stake as a miner, and the stake it unstaked that is
/// still unbonding (neither spendable nor counted as stake yet; absent from older nodes, read as zero).
/// </summary>
public sealed record LedgerAccount(Address Address, Amount Balance, ulong Nonce, IReadOnlyDictionary<string, Amount> Allowances, Amount Stake, Amount Unbonding = default);
