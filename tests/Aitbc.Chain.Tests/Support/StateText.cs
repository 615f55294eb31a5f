using Aitbc.Chain.State;

namespace Aitbc.Chain.Tests.Support;

/// <summary>Comparable text for state records whose equality is by reference (an account's allowance map).</summary>
internal static class StateText
{
    public static string Describe(this AccountState account) =>
        $"balance={account.Balance.Micro} nonce={account.Nonce} allowances=[{string.Join(", ", account.Allowances.Select(a => $"{a.Key}:{a.Value.Micro}"))}]";
}
