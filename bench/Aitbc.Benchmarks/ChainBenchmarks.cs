using Aitbc.Chain;
using Aitbc.Chain.Execution;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Core;
using Aitbc.Core.Blocks;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Transactions;
using BenchmarkDotNet.Attributes;

namespace Aitbc.Benchmarks;

/// <summary>The per-transaction hot path: encoding, decoding, signature checks.</summary>
[MemoryDiagnoser]
public class TransactionBenchmarks
{
    private readonly Ed25519KeyPair _key = Ed25519KeyPair.FromSeed(new byte[32]);
    private UnsignedTransaction _unsigned = null!;
    private SignedTransaction _signed = null!;

    [GlobalSetup]
    public void Setup()
    {
        _unsigned = new UnsignedTransaction("bench", _key.PublicKey, 7, new TransferBody(Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)1, 32).ToArray()).Address, new Amount(1234)));
        _signed = _unsigned.Sign(_key);
    }

    [Benchmark]
    public byte[] Canonicalize() => CanonicalJson.Canonicalize(_signed.WireBytes);

    [Benchmark]
    public SignedTransaction Sign() => _unsigned.Sign(_key);

    [Benchmark]
    public bool Decode() => SignedTransaction.TryDecode(_signed.WireBytes, out _, out _);

    [Benchmark]
    public bool Verify() => _signed.VerifySignature();

    [Benchmark]
    public string TxHash() => Hashing.Sha256UpperHex(_signed.WireBytes);
}

/// <summary>Block-level costs: executing transfers, and producing a block of 2,000 transfers end to end (execute, sign, SQLite commit).</summary>
[MemoryDiagnoser]
public class BlockBenchmarks
{
    private const int BlockSize = 2000;
    private Ed25519KeyPair[] _keys = null!;
    private GenesisDocument _genesis = null!;
    private List<SignedTransaction> _txs = null!;
    private string _dir = "";
    private Blockchain _chain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _keys = [.. Enumerable.Range(0, BlockSize).Select(i => Ed25519KeyPair.FromSeed(Enumerable.Repeat((byte)(i % 251), 31).Append((byte)(i / 251)).ToArray()))];
        var validator = Validator;
        _genesis = new GenesisDocument("bench", BlockHeader.FormatTime(DateTimeOffset.UnixEpoch), validator.PublicKey.Base64, [],
            [.. _keys.Select(k => new GenesisAllocation(k.Address, Amount.FromAitbc(1_000_000)))]);
        _txs = Transfers(1);
        _dir = Path.Combine(Path.GetTempPath(), $"aitbc-bench-{Guid.NewGuid():N}");
        _chain = Blockchain.Open(new ChainOptions { DataDirectory = _dir, ValidatorKey = validator }, _genesis);
    }

    internal List<SignedTransaction> Transfers(ulong nonce) =>
        [.. _keys.Select((k, i) => new UnsignedTransaction("bench", k.PublicKey, nonce, new TransferBody(_keys[(i + 1) % _keys.Length].Address, new Amount(1))).Sign(k))];

    internal Ed25519KeyPair Validator { get; } = Ed25519KeyPair.FromSeed(new byte[32]);

    internal GenesisDocument Genesis => _genesis;

    [GlobalCleanup]
    public void Cleanup()
    {
        _chain.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = BlockSize)]
    public int ExecuteTransfers()
    {
        var overlay = new StateOverlay(new GenesisLedger(_genesis));
        var executor = new TxExecutor(_genesis);
        var ok = 0;
        foreach (var tx in _txs)
        {
            ok += executor.Execute(overlay, tx, 1, DateTimeOffset.UnixEpoch, signatureChecked: true).IsOk ? 1 : 0;
        }
        return ok;
    }

    private sealed class GenesisLedger(GenesisDocument genesis) : IStateView
    {
        private readonly Dictionary<Address, AccountState> _accounts = genesis.Allocations.ToDictionary(a => a.Address, a => AccountState.Empty with { Balance = a.Amount });

        public AccountState GetAccount(Address address) => _accounts.GetValueOrDefault(address) ?? AccountState.Empty;

        public MinerState? GetMiner(Address address) => null;

        public EscrowState? GetEscrow(string jobId) => null;

        public ReceiptRecord? GetReceipt(string receiptId) => null;
    }
}

/// <summary>CheckTx of 2,000 transfers then one block with them: execute, sign, commit to SQLite (fsync), recheck.</summary>
[MemoryDiagnoser]
[InvocationCount(1)]
public class BlockProductionBenchmarks
{
    private const int BlockSize = 2000;
    private readonly BlockBenchmarks _setup = new();
    private Blockchain _chain = null!;
    private List<SignedTransaction> _txs = null!;
    private string _dir = "";
    private ulong _round;

    [GlobalSetup]
    public void Setup()
    {
        _setup.Setup();
        _dir = Path.Combine(Path.GetTempPath(), $"aitbc-bench-{Guid.NewGuid():N}");
        _chain = Blockchain.Open(new ChainOptions { DataDirectory = _dir, ValidatorKey = _setup.Validator }, _setup.Genesis);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _chain.Dispose();
        Directory.Delete(_dir, recursive: true);
        _setup.Cleanup();
    }

    [IterationSetup]
    public void NextRound() => _txs = _setup.Transfers(++_round);

    [Benchmark(OperationsPerInvoke = BlockSize)]
    public long CheckAndProduceBlock()
    {
        foreach (var tx in _txs)
        {
            _chain.CheckTx(tx.WireBytes, addToMempool: true);
        }
        var height = _chain.ProduceBlockAsync(CancellationToken.None).GetAwaiter().GetResult()!.Height;
        if (Environment.GetEnvironmentVariable("AITBC_BENCH_TIMINGS") is not null)
        {
            Console.WriteLine($"// block timings: {_chain.LastBlockTimings}");
        }
        return height;
    }
}
