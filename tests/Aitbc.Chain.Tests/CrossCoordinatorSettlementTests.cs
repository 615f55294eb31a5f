using Aitbc.Chain.Blocks;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core.Blocks;
using Aitbc.Core.Transactions;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests;

/// <summary>
/// A coordinator named in genesis tries to pay or refund an escrow another coordinator opened: CheckTx refuses it,
/// and so does block execution when a block carries it anyway (a faulty validator), with no uaitbc moved.
/// </summary>
public sealed class CrossCoordinatorSettlementTests : IDisposable
{
    private const ulong Escrowed = 30_000;

    private static readonly GenesisDocument TwoCoordinators = new GenesisBuilder
    {
        Coordinators = [Coordinator.Address, OtherCoordinator.Address],
        Allocations = [.. new GenesisBuilder().Allocations, GenesisBuilder.Fund(OtherCoordinator)],
    }.Build();

    private readonly TestChain _validator = TestChain.Validator(TwoCoordinators);
    private readonly TestChain _follower = TestChain.Follower(TwoCoordinators);

    public void Dispose()
    {
        _validator.Dispose();
        _follower.Dispose();
    }

    private async Task OpenEscrowAsync()
    {
        await _validator.CommitAsync(
            _validator.Txs.Sign(Miner, Bodies.RegisterMiner(10_000)),
            _validator.Txs.Sign(Alice, Bodies.Approve(Coordinator, Escrowed)),
            _validator.Txs.Sign(Coordinator, Bodies.SubmitJob("job-1", Alice, Escrowed)));
        _follower.Chain.ImportBlock(_validator.StoredBlock(1));
    }

    [Fact]
    public async Task CheckTx_refuses_another_coordinators_receipt_and_refund()
    {
        await OpenEscrowAsync();

        var receipt = _validator.Submit(_validator.Txs.Peek(OtherCoordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000)));
        var refund = _validator.Submit(_validator.Txs.Peek(OtherCoordinator, Bodies.Refund("job-1")));

        Assert.Equal(TxCode.Unauthorized, receipt.Result.Code);
        Assert.Equal(TxCode.Unauthorized, refund.Result.Code);
        Assert.Equal(0, _validator.Chain.MempoolCount);
        Assert.True(_validator.Escrow("job-1")!.IsOpen);
    }

    [Fact]
    public async Task A_block_carrying_another_coordinators_receipt_and_refund_fails_them_and_moves_nothing()
    {
        await OpenEscrowAsync();
        var before = Balances(_follower);
        byte[][] txs =
        [
            _follower.Txs.SignWithNonce(OtherCoordinator, 1, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000)).WireBytes,
            _follower.Txs.SignWithNonce(OtherCoordinator, 1, Bodies.Refund("job-1")).WireBytes,
        ];

        _follower.Chain.ImportBlock(SignedBlockOnTip(txs));

        var results = _follower.Chain.Store.GetBlockTxs(2);
        Assert.Equal([TxCode.Unauthorized, TxCode.Unauthorized], results.Select(r => r.Result.Code));
        Assert.Equal(before, Balances(_follower));
        Assert.True(_follower.Escrow("job-1")!.IsOpen);
        Assert.Equal(0UL, _follower.Account(OtherCoordinator).Nonce);
        Assert.Equal(_follower.Genesis.TotalSupply, _follower.Chain.ComputeSupply());
    }

    [Fact]
    public async Task The_coordinator_that_opened_the_escrow_settles_it_through_a_block()
    {
        await OpenEscrowAsync();

        await _validator.CommitAsync(_validator.Txs.Sign(Coordinator, Bodies.Receipt("rcpt-1", "job-1", Miner, 12_000)));

        Assert.False(_validator.Escrow("job-1")!.IsOpen);
        Assert.Equal(GenesisBuilder.InitialBalance - 10_000 + 12_000, _validator.Balance(Miner));
    }

    private static ulong[] Balances(TestChain chain) =>
        [.. new[] { Coordinator, OtherCoordinator, Alice, Bob, Miner }.Select(chain.Balance)];

    /// <summary>A block the validator key signed over the follower's tip, as a faulty validator could.</summary>
    private Block SignedBlockOnTip(byte[][] txs)
    {
        var status = _follower.Chain.Status;
        var header = new BlockHeader(_follower.Genesis.ChainId, status.Height + 1, BlockHeader.FormatTime(_validator.Time.GetUtcNow().AddSeconds(1)),
            status.LastBlockHash, Convert.ToHexString(BlockHeader.ComputeDataHash(txs)), status.AppHash, Validator.PublicKey.HexAddress);
        return new Block(header, txs, Convert.ToBase64String(Validator.Sign(header.CanonicalBytes())));
    }
}
