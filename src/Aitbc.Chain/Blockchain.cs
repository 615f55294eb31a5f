using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.Mempool;
using Aitbc.Chain.State;
using Aitbc.Chain.Storage;
using Aitbc.Core;
using Aitbc.Core.Blocks;
using Aitbc.Core.Threading;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain;

/// <summary>The chain's tip as readers see it.</summary>
public sealed record ChainStatus(long Height, string LastBlockHash, string LastBlockTime, string AppHash, string GenesisHash);

/// <summary>The answer to CheckTx: the decoded transaction when it decoded, and the verdict.</summary>
public sealed record CheckTxResult(string Hash, TxResult Result)
{
    public bool IsOk => Result.IsOk;
}

/// <summary>The answer to broadcast_tx_commit: CheckTx's verdict and, when it was admitted, the block's.</summary>
public sealed record CommitTxResult(CheckTxResult Check, TxResult? Deliver, long Height);

/// <summary>Where the time of one block went, for metrics and for finding what is slow.</summary>
public sealed record BlockTimings(TimeSpan Execute, TimeSpan StateHash, TimeSpan Store, TimeSpan Apply);

/// <summary>A block refused during import (follower sync): the reason is the log line an operator needs.</summary>
public sealed class InvalidBlockException(string message) : Exception(message);

/// <summary>
/// One chain instance: the committed state, the mempool, block production (validator) or import (follower),
/// and durable storage. Thread-safe: CheckTx and reads run concurrently with block production.
/// </summary>
public sealed class Blockchain : IDisposable
{
    private readonly ChainOptions _options;
    private readonly TimeProvider _time;
    private readonly ChainStore _store;
    private readonly TxExecutor _executor;
    private readonly LedgerState _ledger = new();
    private readonly TxPool _pool;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource<CommitTxResult>> _commitWaiters = new(StringComparer.Ordinal);
    private readonly WakeSignal _txArrived = new();
    private readonly SemaphoreSlim _commitSerial = new(1, 1);
    private StateOverlay _checkState;
    private ChainStatus _status;
    private byte[] _appHash;
    private DateTimeOffset _lastBlockTime;

    private Blockchain(ChainOptions options, GenesisDocument genesis, TimeProvider time, ChainStore store)
    {
        _options = options;
        _time = time;
        _store = store;
        Genesis = genesis;
        _executor = new TxExecutor(genesis);
        _pool = new TxPool(genesis.MempoolMaxTxs, options.MempoolMaxBytes);
        _checkState = new StateOverlay(_ledger);
        _status = null!;
        _appHash = [];
    }

    public GenesisDocument Genesis { get; }

    public string GenesisHash { get; private set; } = "";

    public ChainStatus Status => Volatile.Read(ref _status);

    public ChainStore Store => _store;

    public bool IsValidator => _options.ValidatorKey is not null;

    public int MempoolCount
    {
        get
        {
            lock (_gate)
            {
                return _pool.Count;
            }
        }
    }

    /// <summary>Raised after each block is durably committed.</summary>
    public event Action<Block, IReadOnlyList<TxResult>>? BlockCommitted;

    /// <summary>Timings of the last committed block.</summary>
    public BlockTimings? LastBlockTimings { get; private set; }

    /// <summary>Opens the chain in its data directory, writing genesis on first use and resuming from the last committed block after.</summary>
    public static Blockchain Open(ChainOptions options, GenesisDocument genesis, TimeProvider? time = null)
    {
        genesis.Validate();
        if (options.ValidatorKey is not null && !options.ValidatorKey.PublicKey.Equals(genesis.Validator))
        {
            throw new InvalidOperationException("the validator key is not the validator named in genesis");
        }
        var store = ChainStore.OpenInDirectory(options.DataDirectory);
        try
        {
            var chain = new Blockchain(options, genesis, time ?? TimeProvider.System, store);
            chain.Load();
            return chain;
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    private void Load()
    {
        GenesisHash = Core.Crypto.Hashing.Sha256UpperHex(Genesis.CanonicalBytes());
        var storedGenesis = _store.LoadGenesis();
        if (storedGenesis is null)
        {
            var entries = Genesis.Allocations
                .Select(a => new StateChange(StateKind.Account, a.Address.Value, AccountState.Empty with { Balance = a.Amount }))
                .OrderBy(c => c, Comparer<StateChange>.Create(StateChange.Compare))
                .ToList();
            var appHash = Convert.ToHexString(AppHash.Next(AppHash.Empty, entries));
            _store.CommitGenesis(Genesis, entries, new ChainTip(0, GenesisHash, Genesis.GenesisTime, appHash));
        }
        else if (!string.Equals(Core.Crypto.Hashing.Sha256UpperHex(storedGenesis.CanonicalBytes()), GenesisHash, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"the data directory {_options.DataDirectory} holds a different chain (genesis of '{storedGenesis.ChainId}')");
        }
        _store.LoadState(_ledger);
        var tip = _store.LoadTip() ?? throw new InvalidDataException("chain store has genesis but no tip");
        var supply = _ledger.ComputeSupply();
        if (supply != Genesis.TotalSupply)
        {
            throw new InvalidDataException($"stored state holds {supply.ToMicroString()}uaitbc but genesis supply is {Genesis.TotalSupply.ToMicroString()}uaitbc");
        }
        _appHash = Convert.FromHexString(tip.AppHash);
        _lastBlockTime = DateTimeOffset.Parse(tip.LastBlockTime, System.Globalization.CultureInfo.InvariantCulture);
        _status = new ChainStatus(tip.Height, tip.LastBlockHash, tip.LastBlockTime, tip.AppHash, GenesisHash);
    }

    // ---------------- reads ----------------

    /// <summary>Reads committed state under the chain's lock (the state is only consistent between commits).</summary>
    public T Read<T>(Func<IStateView, T> query)
    {
        lock (_gate)
        {
            return query(_ledger);
        }
    }

    public Amount ComputeSupply()
    {
        lock (_gate)
        {
            return _ledger.ComputeSupply();
        }
    }

    public IReadOnlyList<MinerState> Miners()
    {
        lock (_gate)
        {
            return [.. _ledger.Miners];
        }
    }

    public IReadOnlyList<SignedTransaction> UnconfirmedTxs(int limit)
    {
        lock (_gate)
        {
            return _pool.Peek(limit);
        }
    }

    public long MempoolBytes
    {
        get
        {
            lock (_gate)
            {
                return _pool.Bytes;
            }
        }
    }

    // ---------------- CheckTx and broadcast ----------------

    /// <summary>Decodes and validates a transaction against committed state plus the mempool; admits it when <paramref name="addToMempool"/>.</summary>
    public CheckTxResult CheckTx(byte[] wire, bool addToMempool) => CheckTxCore(wire, addToMempool, waiter: null);

    /// <summary>CheckTx, then wait until the transaction is in a committed block (or the timeout passes).</summary>
    public async Task<CommitTxResult> BroadcastCommitAsync(byte[] wire, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource<CommitTxResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var check = CheckTxCore(wire, addToMempool: true, waiter);
        if (!check.IsOk)
        {
            return new CommitTxResult(check, null, 0);
        }
        try
        {
            // The timeout runs on the chain's clock, like block production, so a test clock governs both.
            return await waiter.Task.WaitAsync(_options.CommitTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"timed out after {_options.CommitTimeout.TotalSeconds:0}s waiting for tx {check.Hash} to be committed");
        }
        finally
        {
            lock (_gate)
            {
                if (_commitWaiters.TryGetValue(check.Hash, out var registered) && registered == waiter)
                {
                    _commitWaiters.Remove(check.Hash);
                }
            }
        }
    }

    /// <summary>
    /// CheckTx for many transactions at once (a JSON-RPC batch of broadcasts): each is decoded and verified as
    /// alone, then all are admitted, in order, under one acquisition of the chain's lock.
    /// </summary>
    public IReadOnlyList<CheckTxResult> CheckTxBatch(IReadOnlyList<byte[]> wires)
    {
        var results = new CheckTxResult[wires.Count];
        var decoded = new SignedTransaction?[wires.Count];
        for (var i = 0; i < wires.Count; i++)
        {
            if (PreCheck(wires[i], out decoded[i]) is { } refused)
            {
                results[i] = refused;
            }
        }
        lock (_gate)
        {
            for (var i = 0; i < wires.Count; i++)
            {
                if (decoded[i] is { } tx)
                {
                    results[i] = AdmitLocked(tx, addToMempool: true, waiter: null);
                }
            }
        }
        return results;
    }

    private CheckTxResult CheckTxCore(byte[] wire, bool addToMempool, TaskCompletionSource<CommitTxResult>? waiter)
    {
        if (PreCheck(wire, out var tx) is { } refused)
        {
            return refused;
        }
        lock (_gate)
        {
            return AdmitLocked(tx!, addToMempool, waiter);
        }
    }

    /// <summary>The checks that need no state: decoding, chain id, signature. They run outside the lock, so concurrent requests verify on all cores.</summary>
    private CheckTxResult? PreCheck(byte[] wire, out SignedTransaction? tx)
    {
        if (!SignedTransaction.TryDecode(wire, out tx, out var error))
        {
            tx = null;
            return new CheckTxResult(Core.Crypto.Hashing.Sha256UpperHex(wire), TxResult.Fail(TxCode.Malformed, error));
        }
        if (!string.Equals(tx.Tx.ChainId, Genesis.ChainId, StringComparison.Ordinal))
        {
            var refused = new CheckTxResult(tx.Hash, TxResult.Fail(TxCode.WrongChainId, $"chain_id '{tx.Tx.ChainId}' does not match this chain ('{Genesis.ChainId}')"));
            tx = null;
            return refused;
        }
        if (!tx.VerifySignature())
        {
            var refused = new CheckTxResult(tx.Hash, TxResult.Fail(TxCode.BadSignature, "signature does not verify for pub_key"));
            tx = null;
            return refused;
        }
        return null;
    }

    private CheckTxResult AdmitLocked(SignedTransaction tx, bool addToMempool, TaskCompletionSource<CommitTxResult>? waiter)
    {
        var hash = tx.Hash;
        if (_pool.Contains(hash))
        {
            return new CheckTxResult(hash, TxResult.Fail(TxCode.DuplicateTx, "tx already exists in the mempool"));
        }
        if (addToMempool && _pool.IsFull(tx.WireBytes.Length))
        {
            return new CheckTxResult(hash, TxResult.Fail(TxCode.MempoolFull, $"mempool is full ({_pool.Count} txs); retry later"));
        }
        var target = addToMempool ? _checkState : new StateOverlay(_checkState);
        var result = _executor.Execute(target, tx, Status.Height + 1, _time.GetUtcNow(), signatureChecked: true);
        if (result.IsOk && addToMempool)
        {
            _pool.Add(tx);
            if (waiter is not null)
            {
                _commitWaiters[hash] = waiter;
            }
            _txArrived.Kick();
        }
        return new CheckTxResult(hash, result);
    }

    // ---------------- block production (validator) ----------------

    /// <summary>Makes blocks while transactions wait: one as soon as any arrive, at most one per block interval, none empty.</summary>
    public async Task RunProducerAsync(CancellationToken cancellationToken)
    {
        if (!IsValidator)
        {
            throw new InvalidOperationException("only the validator produces blocks");
        }
        var interval = TimeSpan.FromMilliseconds(Genesis.BlockIntervalMs);
        while (!cancellationToken.IsCancellationRequested)
        {
            if (MempoolCount == 0)
            {
                await _txArrived.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            var wait = _lastBlockTime + interval - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
            }
            await ProduceBlockAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Executes up to max_block_txs waiting transactions into a signed, committed block; null when none wait.</summary>
    public async Task<Block?> ProduceBlockAsync(CancellationToken cancellationToken)
    {
        var key = _options.ValidatorKey ?? throw new InvalidOperationException("only the validator produces blocks");
        await _commitSerial.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            List<SignedTransaction> batch;
            lock (_gate)
            {
                batch = _pool.Peek(Genesis.MaxBlockTxs);
            }
            if (batch.Count == 0)
            {
                return null;
            }
            var status = Status;
            var height = status.Height + 1;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            // The block's time is fixed before execution: unstakes and releases of unbonding stake are reckoned from it.
            var now = _time.GetUtcNow();
            if (now <= _lastBlockTime)
            {
                now = _lastBlockTime.AddTicks(1);
            }
            var overlay = new StateOverlay(_ledger);
            var released = TxExecutor.ReleaseUnbonded(overlay, _ledger.MinersUnbonding, now);
            var results = new TxResult[batch.Count];
            for (var i = 0; i < batch.Count; i++)
            {
                results[i] = _executor.Execute(overlay, batch[i], height, now, signatureChecked: true);
            }
            var txBytes = batch.Select(t => t.WireBytes).ToList();
            var header = new BlockHeader(Genesis.ChainId, height, BlockHeader.FormatTime(now), status.LastBlockHash,
                Convert.ToHexString(BlockHeader.ComputeDataHash(txBytes)), status.AppHash, key.PublicKey.HexAddress);
            var block = new Block(header, txBytes, Convert.ToBase64String(key.Sign(header.CanonicalBytes())));
            // Releases ran before the transactions, so the block did not start from the state CheckTx did.
            Commit(block, overlay, results, now, started, fromPoolHead: !released);
            return block;
        }
        finally
        {
            _commitSerial.Release();
        }
    }

    // ---------------- block import (follower) ----------------

    /// <summary>Verifies a block from the validator (signature, links, data_hash, app_hash), re-executes it and commits it.</summary>
    public void ImportBlock(Block block)
    {
        _commitSerial.Wait();
        try
        {
            var status = Status;
            var header = block.Header;
            if (!string.Equals(header.ChainId, Genesis.ChainId, StringComparison.Ordinal))
            {
                throw new InvalidBlockException($"block {header.Height} is for chain '{header.ChainId}', not '{Genesis.ChainId}'");
            }
            if (header.Height != status.Height + 1)
            {
                throw new InvalidBlockException($"expected block {status.Height + 1}, got {header.Height}");
            }
            if (!string.Equals(header.LastBlockHash, status.LastBlockHash, StringComparison.Ordinal))
            {
                throw new InvalidBlockException($"block {header.Height} links to {header.LastBlockHash}, but block {status.Height} is {status.LastBlockHash}");
            }
            if (!string.Equals(header.ProposerAddress, Genesis.Validator.HexAddress, StringComparison.Ordinal) || !block.VerifySignature(Genesis.Validator))
            {
                throw new InvalidBlockException($"block {header.Height} is not signed by the genesis validator");
            }
            if (block.Txs.Count > Genesis.MaxBlockTxs)
            {
                throw new InvalidBlockException($"block {header.Height} holds {block.Txs.Count} txs; genesis allows {Genesis.MaxBlockTxs}");
            }
            if (!string.Equals(header.DataHash, Convert.ToHexString(BlockHeader.ComputeDataHash(block.Txs)), StringComparison.Ordinal))
            {
                throw new InvalidBlockException($"block {header.Height} data_hash does not match its transactions");
            }
            // A transaction is committed at most once: the tx index is keyed by hash, and a repeat could only fail on its nonce.
            var hashes = new HashSet<string>(block.Txs.Count, StringComparer.Ordinal);
            foreach (var tx in block.Txs)
            {
                var hash = Core.Crypto.Hashing.Sha256UpperHex(tx);
                if (!hashes.Add(hash))
                {
                    throw new InvalidBlockException($"block {header.Height} holds transaction {hash} twice");
                }
            }
            if (_store.FirstStoredTx(hashes) is { } committed)
            {
                throw new InvalidBlockException($"block {header.Height} holds transaction {committed}, already committed in an earlier block");
            }
            if (!string.Equals(header.AppHash, status.AppHash, StringComparison.Ordinal))
            {
                throw new InvalidBlockException($"block {header.Height} app_hash {header.AppHash} differs from ours {status.AppHash}: state diverged");
            }
            if (!DateTimeOffset.TryParse(header.Time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var time) || time <= _lastBlockTime)
            {
                throw new InvalidBlockException($"block {header.Height} time {header.Time} is not after the previous block");
            }
            var txs = new SignedTransaction[block.Txs.Count];
            var verified = new bool[block.Txs.Count];
            Parallel.For(0, block.Txs.Count, i =>
            {
                if (!SignedTransaction.TryDecode(block.Txs[i], out txs[i], out _))
                {
                    return;
                }
                verified[i] = txs[i].VerifySignature();
            });
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var overlay = new StateOverlay(_ledger);
            TxExecutor.ReleaseUnbonded(overlay, _ledger.MinersUnbonding, time);
            var results = new TxResult[txs.Length];
            for (var i = 0; i < txs.Length; i++)
            {
                if (txs[i] is null)
                {
                    throw new InvalidBlockException($"block {header.Height} holds an undecodable transaction at index {i}");
                }
                results[i] = verified[i]
                    ? _executor.Execute(overlay, txs[i], header.Height, time, signatureChecked: true)
                    : TxResult.Fail(TxCode.BadSignature, "signature does not verify for pub_key");
            }
            Commit(block, overlay, results, time, started, fromPoolHead: false);
        }
        finally
        {
            _commitSerial.Release();
        }
    }

    // ---------------- commit ----------------

    private void Commit(Block block, StateOverlay overlay, TxResult[] results, DateTimeOffset time, long started, bool fromPoolHead)
    {
        var executed = System.Diagnostics.Stopwatch.GetTimestamp();
        if (overlay.SupplyDelta != 0)
        {
            throw new InvalidOperationException($"block {block.Height} would change the supply by {overlay.SupplyDelta}uaitbc; refusing to commit");
        }
        var changes = overlay.Changes();
        var appHashAfter = AppHash.Next(_appHash, changes);
        var appHashHex = Convert.ToHexString(appHashAfter);
        var tip = new ChainTip(block.Height, block.Hash, block.Header.Time, appHashHex);
        var hashed = System.Diagnostics.Stopwatch.GetTimestamp();
        _store.CommitBlock(block, results, changes, tip);
        var stored = System.Diagnostics.Stopwatch.GetTimestamp();

        var waiters = new List<(TaskCompletionSource<CommitTxResult> Waiter, CommitTxResult Result)>();
        lock (_gate)
        {
            _ledger.Apply(changes);
            _appHash = appHashAfter;
            _lastBlockTime = time;
            Volatile.Write(ref _status, new ChainStatus(block.Height, block.Hash, block.Header.Time, appHashHex, GenesisHash));
            for (var i = 0; i < block.Txs.Count; i++)
            {
                var hash = Core.Crypto.Hashing.Sha256UpperHex(block.Txs[i]);
                _pool.Remove(hash);
                if (_commitWaiters.Remove(hash, out var waiter))
                {
                    waiters.Add((waiter, new CommitTxResult(new CheckTxResult(hash, new TxResult(TxCode.Ok, "", [])), results[i], block.Height)));
                }
            }
            // The block replayed the head of the mempool, in order, from the state CheckTx started from; when every
            // one of them succeeded again, the check state already is "new state + the rest of the mempool", and
            // re-executing the rest (under this lock, stalling every CheckTx) would only reproduce it.
            if (_pool.Count == 0)
            {
                _checkState = new StateOverlay(_ledger);
            }
            else if (!fromPoolHead || results.Any(r => !r.IsOk) || _checkState.Size > (4 * _pool.Count) + 10_000)
            {
                RecheckMempool(waiters);
            }
        }
        var applied = System.Diagnostics.Stopwatch.GetTimestamp();
        LastBlockTimings = new BlockTimings(
            System.Diagnostics.Stopwatch.GetElapsedTime(started, executed),
            System.Diagnostics.Stopwatch.GetElapsedTime(executed, hashed),
            System.Diagnostics.Stopwatch.GetElapsedTime(hashed, stored),
            System.Diagnostics.Stopwatch.GetElapsedTime(stored, applied));
        foreach (var (waiter, result) in waiters)
        {
            waiter.TrySetResult(result);
        }
        BlockCommitted?.Invoke(block, results);
    }

    /// <summary>Rebuilds the check state over the new committed state; transactions no longer valid leave the mempool.</summary>
    private void RecheckMempool(List<(TaskCompletionSource<CommitTxResult>, CommitTxResult)> waiters)
    {
        _checkState = new StateOverlay(_ledger);
        List<SignedTransaction>? evicted = null;
        foreach (var tx in _pool.All)
        {
            var result = _executor.Execute(_checkState, tx, Status.Height + 1, _time.GetUtcNow(), signatureChecked: true);
            if (!result.IsOk)
            {
                (evicted ??= []).Add(tx);
                if (_commitWaiters.Remove(tx.Hash, out var waiter))
                {
                    waiters.Add((waiter, new CommitTxResult(new CheckTxResult(tx.Hash, result), null, 0)));
                }
            }
        }
        foreach (var tx in evicted ?? [])
        {
            _pool.Remove(tx.Hash);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            // Nobody will commit these any more; answer now instead of at their timeout.
            foreach (var waiter in _commitWaiters.Values)
            {
                waiter.TrySetException(new ObjectDisposedException(nameof(Blockchain), "the node is shutting down"));
            }
            _commitWaiters.Clear();
        }
        _store.Dispose();
        _commitSerial.Dispose();
    }
}
