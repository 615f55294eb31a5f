using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

/// <summary>The checks every transaction passes before its type's rule: chain id, signature, nonce.</summary>
public sealed class EnvelopeRulesTests
{
    private readonly LedgerHarness _ledger = new();

    [Fact]
    public void Transaction_for_another_chain_is_refused()
    {
        var tx = new TxFactory("aitbc-other").Sign(Alice, Bodies.Transfer(Bob, 1));

        var result = _ledger.AssertRefused(tx, TxCode.WrongChainId);

        Assert.Contains("aitbc-other", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Transaction_whose_body_was_altered_after_signing_is_refused()
    {
        var forged = Tamper.WithForgedAmount(_ledger.Tx(Alice, Bodies.Transfer(Bob, 1)), "900000");

        _ledger.AssertRefused(forged, TxCode.BadSignature);

        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Bob));
    }

    [Fact]
    public void Transaction_signed_by_a_key_other_than_its_pub_key_is_refused()
    {
        var byBob = _ledger.Tx(Bob, Bodies.Transfer(Bob, 1));
        var claimsAlice = Tamper.Decode(Tamper.Edit(byBob, json => json["pub_key"] = Alice.PublicKey.Base64));

        _ledger.AssertRefused(claimsAlice, TxCode.BadSignature);
    }

    [Fact]
    public void Executor_trusts_a_signature_the_caller_says_it_checked()
    {
        // The mempool verifies once at CheckTx; the block must not pay for a second verification.
        var forged = Tamper.WithForgedAmount(_ledger.Tx(Alice, Bodies.Transfer(Bob, 1)), "2");

        var (result, _) = _ledger.Execute(forged, signatureChecked: true);

        Assert.True(result.IsOk, result.Log);
    }

    [Fact]
    public void Replay_of_an_applied_transaction_is_refused_for_its_nonce()
    {
        var tx = _ledger.Tx(Alice, Bodies.Transfer(Bob, 100));
        _ledger.Commit(tx);

        var result = _ledger.AssertRefused(tx, TxCode.BadNonce);

        Assert.Contains("expected 2", result.Log, StringComparison.Ordinal);
        Assert.Equal(GenesisBuilder.InitialBalance - 100, _ledger.Balance(Alice));
    }

    [Theory]
    [InlineData(2UL)]
    [InlineData(100UL)]
    public void Transaction_with_a_nonce_from_the_future_is_refused(ulong nonce)
    {
        var tx = new TxFactory().SignWithNonce(Alice, nonce, Bodies.Transfer(Bob, 100));

        _ledger.AssertRefused(tx, TxCode.BadNonce);
    }

    [Fact]
    public void Nonce_is_checked_before_the_type_rule()
    {
        var tx = new TxFactory().SignWithNonce(Alice, 5, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance * 2));

        _ledger.AssertRefused(tx, TxCode.BadNonce);
    }

    [Fact]
    public void Refused_transaction_does_not_use_up_the_nonce()
    {
        _ledger.AssertRefused(Alice, Bodies.Transfer(Bob, 0), TxCode.InvalidField);

        var result = _ledger.Commit(Alice, Bodies.Transfer(Bob, 1));

        Assert.True(result.IsOk);
        Assert.Equal(1UL, _ledger.Nonce(Alice));
    }
}
