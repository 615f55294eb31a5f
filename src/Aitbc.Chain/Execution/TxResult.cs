using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Execution;

/// <summary>A key/value of an event (CometBFT's event attribute).</summary>
public sealed record EventAttribute(string Key, string Value, bool Index = true);

/// <summary>An event a transaction emits, indexed for <c>tx_search</c>.</summary>
public sealed record TxEvent(string Type, IReadOnlyList<EventAttribute> Attributes);

/// <summary>The outcome of checking or executing a transaction: <c>code</c> 0 on success, else the rule and a readable <c>log</c>.</summary>
public sealed record TxResult(TxCode Code, string Log, IReadOnlyList<TxEvent> Events)
{
    public bool IsOk => Code == TxCode.Ok;

    public static TxResult Fail(TxCode code, string log) => new(code, log, []);
}
