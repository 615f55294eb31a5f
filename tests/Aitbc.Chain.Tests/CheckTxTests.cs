using System.Text;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

public sealed class CheckTxTests : IDisposable
{
    private readonly TestChain _chain = TestChain.Validator();

    public void Dispose() => _chain.Dispose();

    [Fact]
    public void Valid_transaction_is_admitted_and_counted_in_the_mempool()
    {
        var tx = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));

        var check = _chain.Submit(tx);

        Assert.True(check.IsOk, check.Result.Log);
        Assert.Equal(tx.Hash, check.Hash);
        Assert.Equal(1, _chain.Chain.MempoolCount);
        Assert.Equal(tx.WireBytes.Length, _chain.Chain.MempoolBytes);
        Assert.Equal(tx.Hash, Assert.Single(_chain.Chain.UnconfirmedTxs(10)).Hash);
    }

    [Fact]
    public void Admitted_transaction_does_not_change_committed_state()
    {
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 10));

        Assert.Equal(GenesisBuilder.InitialBalance, _chain.Balance(Alice));
        Assert.Equal(0UL, _chain.Account(Alice).Nonce);
        Assert.Equal(0, _chain.Chain.Status.Height);
    }

    [Fact]
    public void Check_only_validates_without_admitting()
    {
        var tx = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 10));

        var check = _chain.Chain.CheckTx(tx.WireBytes, addToMempool: false);

        Assert.True(check.IsOk);
        Assert.Equal(0, _chain.Chain.MempoolCount);
        Assert.True(_chain.Submit(tx).IsOk, "a checked-only transaction can still be admitted");
    }

    [Fact]
    public void Check_only_does_not_advance_the_pending_nonce()
    {
        var first = _chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 10));
        Assert.True(_chain.Chain.CheckTx(first.WireBytes, addToMempool: false).IsOk);

        var second = _chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 20));

        Assert.True(_chain.Submit(second).IsOk);
    }

    [Fact]
    public void Duplicate_transaction_is_refused_as_duplicate()
    {
        var tx = _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 10));

        var again = _chain.Submit(tx);

        Assert.Equal(TxCode.DuplicateTx, again.Result.Code);
        Assert.NotEmpty(again.Result.Log);
        Assert.Equal(1, _chain.Chain.MempoolCount);
    }

    [Fact]
    public void Consecutive_nonces_of_one_sender_are_admitted_together()
    {
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 10));
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, 20));
        _chain.SubmitNew(Alice, Bodies.Approve(Coordinator, 30));

        Assert.Equal(3, _chain.Chain.MempoolCount);
    }

    [Fact]
    public void Transaction_that_pending_ones_make_invalid_is_refused()
    {
        _chain.SubmitNew(Alice, Bodies.Transfer(Bob, GenesisBuilder.InitialBalance - 5));

        var check = _chain.Submit(_chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 6)));

        Assert.Equal(TxCode.InsufficientFunds, check.Result.Code);
        Assert.Equal(1, _chain.Chain.MempoolCount);
    }

    [Fact]
    public void Transaction_skipping_a_nonce_is_refused()
    {
        var check = _chain.Submit(_chain.Txs.SignWithNonce(Alice, 2, Bodies.Transfer(Bob, 1)));

        Assert.Equal(TxCode.BadNonce, check.Result.Code);
        Assert.Equal(0, _chain.Chain.MempoolCount);
    }

    [Fact]
    public void Transaction_for_another_chain_is_refused()
    {
        var tx = new TxFactory("aitbc-other").Sign(Alice, Bodies.Transfer(Bob, 1));

        Assert.Equal(TxCode.WrongChainId, _chain.Submit(tx).Result.Code);
    }

    [Fact]
    public void Transaction_with_a_forged_signature_is_refused()
    {
        var wire = Tamper.Edit(_chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 1)), json => json["body"]!["amount"] = "999");

        var check = _chain.Chain.CheckTx(wire, addToMempool: true);

        Assert.Equal(TxCode.BadSignature, check.Result.Code);
        Assert.Equal(Hashing.Sha256UpperHex(wire), check.Hash);
        Assert.Equal(0, _chain.Chain.MempoolCount);
    }

    public static TheoryData<string, byte[]> MalformedWires()
    {
        var valid = new TxFactory().Sign(Alice, Bodies.Transfer(Bob, 1));
        var text = Encoding.UTF8.GetString(valid.WireBytes);
        return new TheoryData<string, byte[]>
        {
            { "empty", [] },
            { "random bytes", [0xff, 0x00, 0x13, 0x37, 0xc3] },
            { "json null", "null"u8.ToArray() },
            { "json array", "[1,2,3]"u8.ToArray() },
            { "truncated", valid.WireBytes[..^5] },
            { "not canonical (spaces)", Encoding.UTF8.GetBytes(text.Replace(",", ", ", StringComparison.Ordinal)) },
            { "unknown field", Tamper.Edit(valid, json => json["extra"] = 1) },
            { "unknown type", Tamper.Edit(valid, json => json["type"] = "mint") },
            { "nonce zero", Tamper.Edit(valid, json => json["nonce"] = 0) },
            { "nonce as string", Tamper.Edit(valid, json => json["nonce"] = "1") },
            { "negative amount", Tamper.Edit(valid, json => json["body"]!["amount"] = "-1") },
            { "amount as number", Tamper.Edit(valid, json => json["body"]!["amount"] = 1) },
            { "bad address", Tamper.Edit(valid, json => json["body"]!["to"] = "aitbc1nope") },
            { "short pub_key", Tamper.Edit(valid, json => json["pub_key"] = "AAAA") },
            { "short signature", Tamper.Edit(valid, json => json["signature"] = "AAAA") },
            { "body of another type", Tamper.Edit(valid, json => json["type"] = TxType.Approve) },
            { "deeply nested", Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)) },
            { "over the size limit", Encoding.UTF8.GetBytes("\"" + new string('a', SignedTransaction.MaxWireBytes) + "\"") },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedWires))]
    public void Malformed_bytes_are_refused_as_malformed_without_throwing(string what, byte[] wire)
    {
        var check = _chain.Chain.CheckTx(wire, addToMempool: true);

        Assert.True(check.Result.Code == TxCode.Malformed, $"{what}: {check.Result.Code} {check.Result.Log}");
        Assert.False(string.IsNullOrWhiteSpace(check.Result.Log));
        Assert.Equal(0, _chain.Chain.MempoolCount);
    }

    [Fact]
    public void Full_mempool_refuses_new_transactions()
    {
        using var chain = TestChain.Validator(new GenesisBuilder { MaxBlockTxs = 1, MempoolMaxTxs = 2 }.Build());
        chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));
        chain.SubmitNew(Bob, Bodies.Transfer(Alice, 1));
        var third = chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 2));

        var refused = chain.Submit(third);

        Assert.Equal(TxCode.MempoolFull, refused.Result.Code);
        Assert.Contains("full", refused.Result.Log, StringComparison.Ordinal);
        Assert.Equal(2, chain.Chain.MempoolCount);
    }

    [Fact]
    public void Mempool_over_its_byte_limit_refuses_new_transactions()
    {
        var first = _chain.Txs.Sign(Alice, Bodies.Transfer(Bob, 1));
        using var chain = TestChain.Validator(mempoolMaxBytes: first.WireBytes.Length + 10);
        Assert.True(chain.Submit(first).IsOk);

        var second = chain.Submit(chain.Txs.SignWithNonce(Bob, 1, Bodies.Transfer(Alice, 1)));

        Assert.Equal(TxCode.MempoolFull, second.Result.Code);
        Assert.Equal(1, chain.Chain.MempoolCount);
    }

    [Fact]
    public async Task Full_mempool_admits_again_after_a_block()
    {
        using var chain = TestChain.Validator(new GenesisBuilder { MaxBlockTxs = 1, MempoolMaxTxs = 2 }.Build());
        chain.SubmitNew(Alice, Bodies.Transfer(Bob, 1));
        chain.SubmitNew(Bob, Bodies.Transfer(Alice, 1));
        var third = chain.Txs.Peek(Alice, Bodies.Transfer(Bob, 2));
        Assert.Equal(TxCode.MempoolFull, chain.Submit(third).Result.Code);

        var block = await chain.ProduceAsync();

        Assert.Single(block.Txs);
        Assert.True(chain.Submit(third).IsOk);
        Assert.Equal(2, chain.Chain.MempoolCount);
    }
}
