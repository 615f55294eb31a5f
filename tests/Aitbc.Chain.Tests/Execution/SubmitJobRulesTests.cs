using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Execution;

public sealed class SubmitJobRulesTests
{
    private readonly LedgerHarness _ledger = new();

    [Fact]
    public void Submit_job_moves_max_amount_from_client_to_escrow_and_consumes_allowance()
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        var result = _ledger.Commit(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000));

        var escrow = _ledger.Escrow("job-1");
        Assert.NotNull(escrow);
        Assert.Equal(EscrowStatus.Open, escrow.Status);
        Assert.Equal(30_000UL, escrow.Amount.Micro);
        Assert.Equal(Alice.Address, escrow.Client);
        Assert.Equal(Coordinator.Address, escrow.Coordinator);
        Assert.Equal(Bodies.PayloadHash, escrow.PayloadHash);
        Assert.Equal(GenesisBuilder.InitialBalance - 30_000, _ledger.Balance(Alice));
        Assert.Equal(20_000UL, _ledger.Allowance(Alice, Coordinator));
        Assert.Equal(1UL, _ledger.Nonce(Alice));
        Assert.Equal(1UL, _ledger.Nonce(Coordinator));
        Assert.Equal(GenesisBuilder.InitialBalance, _ledger.Balance(Coordinator));
        Assert.Equal(_ledger.Genesis.TotalSupply, _ledger.Supply);
        Assert.Equal(TxType.SubmitJob, Assert.Single(result.Events).Type);
    }

    [Fact]
    public void Submit_job_using_the_whole_allowance_removes_it()
    {
        _ledger.Approve(Alice, Coordinator, 30_000);

        _ledger.Commit(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000));

        Assert.Empty(_ledger.Account(Alice).Allowances);
    }

    [Fact]
    public void Submit_job_by_a_non_coordinator_is_unauthorized()
    {
        _ledger.Approve(Alice, Bob, 50_000);

        var result = _ledger.AssertRefused(Bob, Bodies.SubmitJob("job-1", Alice, 30_000), TxCode.Unauthorized);

        Assert.Contains("coordinator", result.Log, StringComparison.Ordinal);
        Assert.Null(_ledger.Escrow("job-1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("job 1")]
    [InlineData("job/1")]
    [InlineData("jöb")]
    public void Submit_job_with_a_malformed_job_id_is_refused(string jobId)
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        var result = _ledger.AssertRefused(Coordinator, Bodies.SubmitJob(jobId, Alice, 30_000), TxCode.InvalidField);

        Assert.Contains("job_id", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Submit_job_with_a_job_id_longer_than_the_limit_is_refused()
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob(new string('j', 129), Alice, 30_000), TxCode.InvalidField);
    }

    [Fact]
    public void Submit_job_with_a_job_id_at_the_limit_is_accepted()
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        _ledger.Commit(Coordinator, Bodies.SubmitJob("A-z_0.9:" + new string('j', 120), Alice, 30_000));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550")]
    public void Submit_job_with_a_malformed_payload_hash_is_refused(string payloadHash)
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        var result = _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000, payloadHash), TxCode.InvalidField);

        Assert.Contains("payload_hash", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Submit_job_with_zero_max_amount_is_refused()
    {
        _ledger.Approve(Alice, Coordinator, 50_000);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 0), TxCode.InvalidField);
    }

    [Fact]
    public void Submit_job_with_a_job_id_already_used_is_refused()
    {
        _ledger.OpenEscrow("job-1", 10_000);
        _ledger.Approve(Alice, Coordinator, 50_000);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 10_000), TxCode.AlreadyExists);

        Assert.Equal(10_000UL, _ledger.Escrow("job-1")!.Amount.Micro);
    }

    [Fact]
    public void Submit_job_reusing_the_id_of_a_closed_job_is_refused()
    {
        _ledger.OpenEscrow("job-1", 10_000);
        _ledger.Commit(Coordinator, Bodies.Refund("job-1"));
        _ledger.Approve(Alice, Coordinator, 50_000);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 10_000), TxCode.AlreadyExists);

        Assert.Equal(EscrowStatus.Refunded, _ledger.Escrow("job-1")!.Status);
    }

    [Fact]
    public void Submit_job_without_an_allowance_is_refused()
    {
        var result = _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000), TxCode.InsufficientAllowance);

        Assert.Contains("allows", result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Submit_job_beyond_the_allowance_is_refused()
    {
        _ledger.Approve(Alice, Coordinator, 29_999);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000), TxCode.InsufficientAllowance);

        Assert.Equal(29_999UL, _ledger.Allowance(Alice, Coordinator));
    }

    [Fact]
    public void Submit_job_with_an_allowance_granted_to_another_spender_is_refused()
    {
        _ledger.Approve(Alice, Bob, 50_000);

        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, 30_000), TxCode.InsufficientAllowance);
    }

    [Fact]
    public void Submit_job_beyond_the_clients_balance_is_refused_even_with_allowance()
    {
        _ledger.Approve(Alice, Coordinator, 10 * GenesisBuilder.InitialBalance);

        var result = _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Alice, GenesisBuilder.InitialBalance + 1), TxCode.InsufficientFunds);

        Assert.Contains(Alice.Address.Value, result.Log, StringComparison.Ordinal);
    }

    [Fact]
    public void Submit_job_for_the_coordinators_own_funds_is_refused_since_it_cannot_approve_itself()
    {
        _ledger.AssertRefused(Coordinator, Bodies.SubmitJob("job-1", Coordinator, 1), TxCode.InsufficientAllowance);
    }
}
