using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Client.Node;

/// <summary>
/// Signs and sends one key's transactions with consecutive nonces: asks the chain for the account's nonce once, then
/// counts locally, so a burst of transactions does not wait for each to commit. Sends are serialised so nonces reach
/// the node in order (the mempool checks each against the state including those before it).
/// </summary>
/// <remarks>
/// When the node refuses a nonce (BadNonce: another process used the key, or the count drifted), the sender first
/// asks whether the transaction it signed is already on chain (a lost answer to an attempt that did land), and only if
/// not re-reads the account's nonce and re-signs once. So a retried or recovered send never pays twice.
/// </remarks>
public sealed class TxSender
{
    private readonly NodeClient _node;
    private readonly Ed25519KeyPair _key;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ulong? _nextNonce;

    public TxSender(NodeClient node, Ed25519KeyPair key, string chainId)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(chainId);
        _node = node;
        _key = key;
        ChainId = chainId;
    }

    /// <summary>A sender for the chain the node serves (its chain id read from <c>status</c>).</summary>
    public static async Task<TxSender> CreateAsync(NodeClient node, Ed25519KeyPair key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        var status = await node.GetStatusAsync(cancellationToken).ConfigureAwait(false);
        return new TxSender(node, key, status.ChainId);
    }

    public string ChainId { get; }

    public Address Address => _key.Address;

    /// <summary>The nonce the next transaction will carry, or null until it is read from the chain.</summary>
    public ulong? NextNonce => _nextNonce;

    /// <summary>Forgets the local nonce count; the next send reads it from the chain again.</summary>
    public void ResetNonce() => _nextNonce = null;

    /// <summary>Signs <paramref name="body"/> with the next nonce and submits it by <c>broadcast_tx_sync</c> (admitted, not yet committed).</summary>
    public Task<BroadcastResult> SendAsync(TxBody body, CancellationToken cancellationToken = default) =>
        SendCoreAsync(body, _node.BroadcastTxSyncAsync, r => r.Code,
            committed => new BroadcastResult(TxCode.Ok, $"already committed at height {committed.Height}", "", committed.Hash),
            (r, nonce) => r.Code is TxCode.Ok or TxCode.DuplicateTx ? nonce + 1 : NonceAfterRefusal(r.Code, nonce),
            cancellationToken);

    /// <summary>Signs <paramref name="body"/> with the next nonce, submits it by <c>broadcast_tx_commit</c> and returns once its block is made.</summary>
    public Task<CommitResult> SendAndCommitAsync(TxBody body, CancellationToken cancellationToken = default) =>
        SendCoreAsync(body, _node.BroadcastTxCommitAsync, r => r.CheckTx.Code,
            committed => new CommitResult(new ExecTxResult(TxCode.Ok, "", "", "", []), committed.Result, committed.Hash, committed.Height),
            // A transaction that passed CheckTx but failed in its block changed nothing, its nonce included: re-read it.
            (r, nonce) => r.CheckTx.IsOk ? (r.TxResult.IsOk ? nonce + 1 : null) : r.CheckTx.Code == TxCode.DuplicateTx ? nonce + 1 : NonceAfterRefusal(r.CheckTx.Code, nonce),
            cancellationToken);

    /// <summary>A refusal by CheckTx leaves the nonce unused, except BadNonce, which says our count is wrong.</summary>
    private static ulong? NonceAfterRefusal(TxCode code, ulong nonce) => code == TxCode.BadNonce ? null : nonce;

    private async Task<T> SendCoreAsync<T>(
        TxBody body,
        Func<byte[], CancellationToken, Task<T>> broadcast,
        Func<T, TxCode> admission,
        Func<TxInfo, T> alreadyCommitted,
        Func<T, ulong, ulong?> nonceAfter,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var nonce = _nextNonce ?? await ReadNextNonceAsync(cancellationToken).ConfigureAwait(false);
            var tx = Sign(body, nonce);
            var result = await BroadcastAsync(tx, broadcast, cancellationToken).ConfigureAwait(false);
            if (admission(result) == TxCode.BadNonce)
            {
                if (await _node.GetTxAsync(tx.Hash, cancellationToken).ConfigureAwait(false) is { } committed)
                {
                    _nextNonce = nonce + 1;
                    return alreadyCommitted(committed);
                }
                var fresh = await ReadNextNonceAsync(cancellationToken).ConfigureAwait(false);
                if (fresh != nonce)
                {
                    nonce = fresh;
                    result = await BroadcastAsync(Sign(body, nonce), broadcast, cancellationToken).ConfigureAwait(false);
                }
            }
            _nextNonce = nonceAfter(result, nonce);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<T> BroadcastAsync<T>(SignedTransaction tx, Func<byte[], CancellationToken, Task<T>> broadcast, CancellationToken cancellationToken)
    {
        try
        {
            return await broadcast(tx.WireBytes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Whether it landed is unknown (or the caller gave up): the chain, not our count, decides the next nonce.
            _nextNonce = null;
            throw;
        }
    }

    private SignedTransaction Sign(TxBody body, ulong nonce) =>
        new UnsignedTransaction(ChainId, _key.PublicKey, nonce, body).Sign(_key);

    private async Task<ulong> ReadNextNonceAsync(CancellationToken cancellationToken) =>
        (await _node.GetAccountAsync(_key.Address, cancellationToken).ConfigureAwait(false)).NextNonce;
}
