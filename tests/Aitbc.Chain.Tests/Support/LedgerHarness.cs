using Aitbc.Chain.Execution;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;

namespace Aitbc.Chain.Tests.Support;

/// <summary>
/// The ledger rules without blocks or storage: a committed <see cref="LedgerState"/> seeded from genesis, and a
/// <see cref="TxExecutor"/> run over a fresh <see cref="StateOverlay"/> per transaction.
/// </summary>
internal sealed class LedgerHarness
{
    private long _height = 1;

    public LedgerHarness(GenesisDocument? genesis = null)
    {
        Genesis = genesis ?? new GenesisBuilder().Build();
        Executor = new TxExecutor(Genesis);
        State.Apply(Genesis.Allocations.Select(a => new StateChange(StateKind.Account, a.Address.Value, AccountState.Empty with { Balance = a.Amount })));
    }

    public GenesisDocument Genesis { get; }

    public TxExecutor Executor { get; }

    public LedgerState State { get; } = new();

    public long Height => _height;

    /// <summary>The block time transactions execute at: a minute after genesis until a test moves it.</summary>
    public DateTimeOffset Time { get; private set; } = GenesisBuilder.GenesisTime.AddMinutes(1);

    public void Advance(TimeSpan by) => Time += by;

    /// <summary>Signs with the sender's next nonce as the committed state knows it.</summary>
    public SignedTransaction Tx(Ed25519KeyPair key, TxBody body) =>
        new UnsignedTransaction(Genesis.ChainId, key.PublicKey, State.GetAccount(key.Address).Nonce + 1, body).Sign(key);

    /// <summary>Executes and commits a transaction the test needs to succeed (arrange steps, or the act of a success case).</summary>
    public TxResult Commit(Ed25519KeyPair key, TxBody body) => Commit(Tx(key, body));

    public TxResult Commit(SignedTransaction tx)
    {
        var (result, overlay) = Execute(tx);
        Assert.True(result.IsOk, $"{tx.Tx.Type} refused: {result.Code} {result.Log}");
        Assert.Equal(0m, overlay.SupplyDelta);
        State.Apply(overlay.Changes());
        _height++;
        return result;
    }

    public (TxResult Result, StateOverlay Overlay) Execute(SignedTransaction tx, bool signatureChecked = false)
    {
        var overlay = new StateOverlay(State);
        var result = Executor.Execute(overlay, tx, _height, Time, signatureChecked);
        return (result, overlay);
    }

    /// <summary>Executes a transaction that must be refused with <paramref name="code"/>, and checks that it wrote nothing and says why.</summary>
    public TxResult AssertRefused(SignedTransaction tx, TxCode code, bool signatureChecked = false)
    {
        var (result, overlay) = Execute(tx, signatureChecked);

        Assert.Equal(code, result.Code);
        Assert.False(result.IsOk);
        Assert.False(string.IsNullOrWhiteSpace(result.Log), "a refusal must say why");
        Assert.Empty(result.Events);
        Assert.True(overlay.IsEmpty, "a refused transaction must write nothing");
        Assert.Empty(overlay.Changes());
        Assert.Equal(0m, overlay.SupplyDelta);
        return result;
    }

    public TxResult AssertRefused(Ed25519KeyPair key, TxBody body, TxCode code) => AssertRefused(Tx(key, body), code);

    public AccountState Account(Ed25519KeyPair key) => State.GetAccount(key.Address);

    public ulong Balance(Ed25519KeyPair key) => State.GetAccount(key.Address).Balance.Micro;

    public ulong Nonce(Ed25519KeyPair key) => State.GetAccount(key.Address).Nonce;

    public ulong Allowance(Ed25519KeyPair owner, Ed25519KeyPair spender) => State.GetAccount(owner.Address).AllowanceFor(spender.Address).Micro;

    public MinerState? Miner(Ed25519KeyPair key) => State.GetMiner(key.Address);

    public EscrowState? Escrow(string jobId) => State.GetEscrow(jobId);

    public Amount Supply => State.ComputeSupply();

    // Common arrangements.

    public void Approve(Ed25519KeyPair owner, Ed25519KeyPair spender, ulong micro) => Commit(owner, Bodies.Approve(spender, micro));

    public void RegisterMiner(Ed25519KeyPair miner, ulong stake = 1000) => Commit(miner, Bodies.RegisterMiner(stake));

    /// <summary>Alice approves the coordinator and the coordinator opens an escrow of <paramref name="amount"/> for her.</summary>
    public void OpenEscrow(string jobId, ulong amount, Ed25519KeyPair? client = null)
    {
        client ??= TestKeys.Alice;
        Approve(client, TestKeys.Coordinator, Allowance(client, TestKeys.Coordinator) + amount);
        Commit(TestKeys.Coordinator, Bodies.SubmitJob(jobId, client, amount));
    }
}
