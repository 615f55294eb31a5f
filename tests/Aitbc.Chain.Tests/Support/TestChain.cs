using Aitbc.Chain.Blocks;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Aitbc.Chain.Tests.Support;

/// <summary>
/// A <see cref="Blockchain"/> in its own temporary directory (deleted on dispose), on a fake clock that starts a
/// minute after genesis: a validator that produces blocks, or a follower that imports them.
/// </summary>
internal sealed class TestChain : IDisposable
{
    private readonly ChainOptions _options;

    private TestChain(GenesisDocument genesis, Ed25519KeyPair? validatorKey, TimeSpan? commitTimeout, long? mempoolMaxBytes = null)
    {
        Genesis = genesis;
        Directory = Path.Combine(Path.GetTempPath(), "aitbc-chain-tests", Guid.NewGuid().ToString("N"));
        _options = new ChainOptions
        {
            DataDirectory = Directory,
            ValidatorKey = validatorKey,
            CommitTimeout = commitTimeout ?? TimeSpan.FromSeconds(10),
        };
        if (mempoolMaxBytes is { } maxBytes)
        {
            _options = _options with { MempoolMaxBytes = maxBytes };
        }
        Txs = new TxFactory(genesis.ChainId);
        Chain = Blockchain.Open(_options, genesis, Time);
    }

    public static TestChain Validator(GenesisDocument? genesis = null, TimeSpan? commitTimeout = null, long? mempoolMaxBytes = null) =>
        new(genesis ?? new GenesisBuilder().Build(), TestKeys.Validator, commitTimeout, mempoolMaxBytes);

    public static TestChain Follower(GenesisDocument? genesis = null) =>
        new(genesis ?? new GenesisBuilder().Build(), validatorKey: null, commitTimeout: null);

    public GenesisDocument Genesis { get; }

    public string Directory { get; }

    public FakeTimeProvider Time { get; } = new(GenesisBuilder.GenesisTime.AddMinutes(1));

    public Blockchain Chain { get; private set; }

    public TxFactory Txs { get; }

    public CheckTxResult Submit(SignedTransaction tx) => Chain.CheckTx(tx.WireBytes, addToMempool: true);

    /// <summary>Signs with the sender's next nonce and submits; the transaction must be admitted.</summary>
    public SignedTransaction SubmitNew(Ed25519KeyPair key, TxBody body)
    {
        var tx = Txs.Sign(key, body);
        var check = Submit(tx);
        Assert.True(check.IsOk, $"{tx.Tx.Type} not admitted: {check.Result.Code} {check.Result.Log}");
        return tx;
    }

    /// <summary>Submits the transactions (each must be admitted), advances the clock a second and produces a block.</summary>
    public async Task<Block> CommitAsync(params SignedTransaction[] txs)
    {
        foreach (var tx in txs)
        {
            var check = Submit(tx);
            Assert.True(check.IsOk, $"{tx.Tx.Type} not admitted: {check.Result.Code} {check.Result.Log}");
        }
        return await ProduceAsync();
    }

    public async Task<Block> ProduceAsync()
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        var block = await Chain.ProduceBlockAsync(CancellationToken.None);
        Assert.NotNull(block);
        return block;
    }

    /// <summary>Closes the chain and opens it again from the same directory, as after a restart.</summary>
    public void Reopen(GenesisDocument? genesis = null)
    {
        Chain.Dispose();
        ClearPool();
        Chain = Blockchain.Open(_options, genesis ?? Genesis, Time);
    }

    public ulong Balance(Ed25519KeyPair key) => Chain.Read(s => s.GetAccount(key.Address).Balance.Micro);

    public AccountState Account(Ed25519KeyPair key) => Chain.Read(s => s.GetAccount(key.Address));

    public EscrowState? Escrow(string jobId) => Chain.Read(s => s.GetEscrow(jobId));

    public Block StoredBlock(long height) => Chain.Store.GetBlock(height)?.Block ?? throw new InvalidOperationException($"no block {height}");

    public void Dispose()
    {
        Chain.Dispose();
        ClearPool();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless; failing the test over it would not be.
        }
    }

    /// <summary>Closes pooled SQLite connections to this chain's file, so that a reopen or delete starts clean.</summary>
    private void ClearPool()
    {
        var path = Path.Combine(Directory, "chain.db");
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString());
        SqliteConnection.ClearPool(connection);
    }
}
