using System.Text.Json;
using Aitbc.Core;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Client.Node;

/// <summary>The node's <c>status</c>: who it is and the tip of its chain.</summary>
public sealed record NodeStatus(
    string ChainId,
    string NodeId,
    string Moniker,
    string Version,
    long LatestBlockHeight,
    string LatestBlockHash,
    string LatestAppHash,
    DateTimeOffset LatestBlockTime,
    long EarliestBlockHeight,
    bool CatchingUp,
    string ValidatorAddress,
    long VotingPower);

/// <summary>A key/value of an event a transaction emitted (CometBFT's event attribute).</summary>
public sealed record AbciEventAttribute(string Key, string Value, bool Index);

/// <summary>An event a transaction emitted, as indexed for <c>tx_search</c>.</summary>
public sealed record AbciEvent(string Type, IReadOnlyList<AbciEventAttribute> Attributes)
{
    /// <summary>The value of the first attribute named <paramref name="key"/>, or null.</summary>
    public string? Get(string key) => Attributes.FirstOrDefault(a => a.Key == key)?.Value;
}

/// <summary>The outcome of checking or executing a transaction (CometBFT v0.38's ExecTxResult); <c>code</c> 0 is success.</summary>
public sealed record ExecTxResult(TxCode Code, string Log, string Info, string Codespace, IReadOnlyList<AbciEvent> Events)
{
    public bool IsOk => Code == TxCode.Ok;
}

/// <summary>The answer to <c>broadcast_tx_sync</c>/<c>_async</c>: whether CheckTx admitted the transaction to the mempool.</summary>
public sealed record BroadcastResult(TxCode Code, string Log, string Codespace, string Hash)
{
    public bool IsOk => Code == TxCode.Ok;
}

/// <summary>One call's answer in a batch of broadcasts: the CheckTx verdict, or the JSON-RPC error the node gave that call.</summary>
public sealed record BatchBroadcastResult(BroadcastResult? Result, string? Error);

/// <summary>The answer to <c>broadcast_tx_commit</c>: CheckTx, then (when admitted) the execution in the block at <see cref="Height"/>.</summary>
public sealed record CommitResult(ExecTxResult CheckTx, ExecTxResult TxResult, string Hash, long Height)
{
    /// <summary>Admitted, committed and executed successfully.</summary>
    public bool IsOk => CheckTx.IsOk && TxResult.IsOk && Height > 0;

    /// <summary>The first refusal's code: CheckTx's, else the execution's.</summary>
    public TxCode Code => CheckTx.IsOk ? TxResult.Code : CheckTx.Code;

    public string Log => CheckTx.IsOk ? TxResult.Log : CheckTx.Log;
}

/// <summary>A committed transaction as <c>tx</c> and <c>tx_search</c> return it.</summary>
public sealed record TxInfo(string Hash, long Height, int Index, ExecTxResult Result, byte[] Tx)
{
    /// <summary>The decoded transaction, or null when the bytes are not one (a node never stores such).</summary>
    public SignedTransaction? Decode() => SignedTransaction.TryDecode(Tx, out var tx, out _) ? tx : null;
}

/// <summary>One page of <c>tx_search</c> and the number of matches in all.</summary>
public sealed record TxSearchResult(IReadOnlyList<TxInfo> Txs, long TotalCount);

/// <summary>
/// A block: its hash, header (Core's wire type, so <c>Header.Hash()</c> re-derives <see cref="Hash"/>) and transactions.
/// </summary>
public sealed record BlockInfo(string Hash, BlockHeader Header, IReadOnlyList<byte[]> Txs)
{
    /// <summary>The upper-hex SHA-256 of each transaction, in block order.</summary>
    public IReadOnlyList<string> TxHashes => [.. Txs.Select(t => Hashing.Sha256UpperHex(t))];
}

/// <summary>The execution results of a block's transactions, in order, and the app hash after it.</summary>
public sealed record BlockResults(long Height, IReadOnlyList<ExecTxResult> TxsResults, string AppHash);

/// <summary>A block's summary as <c>blockchain</c> lists it.</summary>
public sealed record BlockMeta(string Hash, BlockHeader Header, int NumTxs);

/// <summary>The answer to <c>blockchain</c>: the node's height and up to 20 block summaries, newest first.</summary>
public sealed record BlockchainInfo(long LastHeight, IReadOnlyList<BlockMeta> BlockMetas);

/// <summary>A validator: its CometBFT address (upper hex), key and voting power.</summary>
public sealed record ValidatorInfo(string Address, Ed25519PublicKey PubKey, long VotingPower, long ProposerPriority);

/// <summary>The validator set at a height.</summary>
public sealed record ValidatorSet(long BlockHeight, IReadOnlyList<ValidatorInfo> Validators, int Total);

/// <summary>The chain's genesis: its id, start time, validators, and the ledger's own genesis document as <see cref="AppState"/>.</summary>
public sealed record GenesisInfo(string ChainId, DateTimeOffset GenesisTime, long InitialHeight, IReadOnlyList<ValidatorInfo> Validators, JsonElement AppState);

/// <summary>An account as the ledger holds it: balance, nonce of its last transaction, allowances it granted, and miner stake.</summary>
public sealed record AccountInfo(Address Address, Amount Balance, ulong Nonce, IReadOnlyDictionary<Address, Amount> Allowances, Amount Stake)
{
    /// <summary>The nonce the account's next transaction must carry.</summary>
    public ulong NextNonce => Nonce + 1;

    public Amount AllowanceFor(Address spender) => Allowances.TryGetValue(spender, out var amount) ? amount : Amount.Zero;
}

/// <summary>The escrow states a job's funds can be in.</summary>
public static class EscrowStatus
{
    public const string Open = "open";
    public const string Paid = "paid";
    public const string Refunded = "refunded";
}

/// <summary>A job's escrow: opened by submit_job, closed once by record_receipt (paid) or refund_job (refunded).</summary>
public sealed record EscrowInfo(
    string JobId,
    Address Client,
    Address Coordinator,
    string PayloadHash,
    Amount Amount,
    string Status,
    long OpenedHeight,
    long? ClosedHeight = null,
    string? ReceiptId = null,
    Amount? Paid = null,
    Amount? Refunded = null,
    string? Reason = null)
{
    public bool IsOpen => Status == EscrowStatus.Open;
}

/// <summary>A receipt as record_receipt wrote it on chain, with the block and transaction that did.</summary>
public sealed record ChainReceipt(
    string ReceiptId,
    string JobId,
    Address Client,
    Address Miner,
    Amount AmountPaid,
    Amount Refunded,
    string Model,
    string PromptHash,
    string ResultHash,
    double ComputeTime,
    long TokensGenerated,
    string MinerSignature,
    long Height,
    string TxHash);

/// <summary>A registered miner: its address, the key that signs its proofs (base64), its stake and when it registered.</summary>
public sealed record MinerInfo(Address Address, string PubKey, Amount Stake, long RegisteredHeight);

/// <summary>The supply check: genesis total against what balances, escrow and stake add up to now.</summary>
public sealed record SupplyInfo(Amount TotalSupply, Amount Counted, long Height)
{
    /// <summary>The ledger invariant holds: nothing was minted or lost.</summary>
    public bool IsBalanced => TotalSupply == Counted;
}

/// <summary>The mempool's size: transactions waiting and their bytes.</summary>
public sealed record MempoolInfo(int Count, int Total, long TotalBytes);
