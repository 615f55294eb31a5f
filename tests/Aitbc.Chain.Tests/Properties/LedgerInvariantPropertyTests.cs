using System.Text;
using Aitbc.Chain.Blocks;
using Aitbc.Chain.Execution;
using Aitbc.Chain.Genesis;
using Aitbc.Chain.State;
using Aitbc.Chain.Tests.Support;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using CsCheck;
using static Aitbc.Chain.Tests.Support.TestKeys;

namespace Aitbc.Chain.Tests.Properties;

/// <summary>
/// Random histories of valid and invalid transactions of every type, fed through CheckTx and block production:
/// the ledger's invariants must hold after every block, and a follower re-executing the blocks must agree. Genesis
/// names a second coordinator, which tries to close the first one's escrows, and unbonds stake within a few blocks,
/// so that releases happen in the histories.
/// </summary>
public sealed class LedgerInvariantPropertyTests
{
    public enum OpKind { Transfer, Approve, RegisterMiner, Unstake, SubmitJob, RecordReceipt, RefundJob, Replay, Garbage, WrongChain, ForgedSignature, EndBlock }

    public enum ProofMode { Valid, OtherMinersKey, Forged }

    /// <summary>One step of a history. Indices pick parties, jobs and receipts from small pools so that collisions (reused ids, closed escrows) are common.</summary>
    public sealed record Op(OpKind Kind, int Signer, int Target, ulong Amount, int NonceSkew, int Job, int Receipt, ProofMode Proof);

    private static readonly Ed25519KeyPair[] Parties = [Coordinator, Alice, Bob, Miner, OtherMiner];
    private static readonly string[] JobIds = [.. Enumerable.Range(0, 6).Select(i => $"job-{i}")];
    private const int MaxOps = 60;

    private static readonly GenesisDocument TwoCoordinatorsGenesis = new GenesisBuilder
    {
        Coordinators = [Coordinator.Address, OtherCoordinator.Address],
        UnbondingMs = 3_000,
    }.Build();

    private static readonly Gen<ulong> GenAmount = Gen.Frequency(
        (1, Gen.Const(0UL)),
        (6, Gen.Long[1, 5_000].Select(v => (ulong)v)),
        (2, Gen.Long[5_000, 300_000].Select(v => (ulong)v)),
        (1, Gen.Long[900_000, 3_000_000].Select(v => (ulong)v)));

    private static readonly Gen<OpKind> GenKind = Gen.Frequency(
        (4, Gen.Const(OpKind.Transfer)),
        (4, Gen.Const(OpKind.Approve)),
        (2, Gen.Const(OpKind.RegisterMiner)),
        (2, Gen.Const(OpKind.Unstake)),
        (6, Gen.Const(OpKind.SubmitJob)),
        (6, Gen.Const(OpKind.RecordReceipt)),
        (3, Gen.Const(OpKind.RefundJob)),
        (1, Gen.Const(OpKind.Replay)),
        (1, Gen.Const(OpKind.Garbage)),
        (1, Gen.Const(OpKind.WrongChain)),
        (1, Gen.Const(OpKind.ForgedSignature)),
        (4, Gen.Const(OpKind.EndBlock)));

    private static readonly Gen<Op> GenOp = Gen.Select(
        GenKind,
        Gen.Int[0, Parties.Length - 1],
        Gen.Int[0, Parties.Length - 1],
        GenAmount,
        Gen.Frequency((10, Gen.Const(0)), (1, Gen.Int[-2, -1]), (1, Gen.Int[1, 3])),
        Gen.Int[0, JobIds.Length - 1],
        Gen.Int[0, 5],
        Gen.Frequency((6, Gen.Const(ProofMode.Valid)), (1, Gen.Const(ProofMode.OtherMinersKey)), (1, Gen.Const(ProofMode.Forged))),
        (kind, signer, target, amount, skew, job, receipt, proof) => new Op(kind, signer, target, amount, skew, job, receipt, proof));

    [Fact]
    public void Supply_is_conserved_escrows_close_once_and_followers_agree_over_random_histories()
    {
        GenOp.List[1, MaxOps].Sample(
            ops => new History().Run(ops),
            iter: 100,
            print: ops => string.Join(Environment.NewLine, ops));
    }

    /// <summary>Interprets one generated history against a validator and a follower, checking invariants after every block.</summary>
    private sealed class History
    {
        private readonly Dictionary<Address, ulong> _admittedNonce = [];
        private readonly List<SignedTransaction> _sent = [];
        private readonly List<string> _submittedJobs = [];
        private readonly Dictionary<string, EscrowState> _closedEscrows = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _closings = new(StringComparer.Ordinal);

        public void Run(List<Op> ops)
        {
            using var validator = TestChain.Validator(TwoCoordinatorsGenesis);
            using var follower = TestChain.Follower(TwoCoordinatorsGenesis);
            // A start that makes escrow traffic likely; the random ops may undo any of it.
            Submit(validator, new Op(OpKind.Approve, 1, 0, 25_000, 0, 0, 0, ProofMode.Valid));
            Submit(validator, new Op(OpKind.Approve, 2, 0, 10_000, 0, 0, 0, ProofMode.Valid));
            Submit(validator, new Op(OpKind.RegisterMiner, 3, 0, 5_000, 0, 0, 0, ProofMode.Valid));
            Submit(validator, new Op(OpKind.RegisterMiner, 4, 0, 5_000, 0, 0, 0, ProofMode.Valid));
            foreach (var op in ops)
            {
                if (op.Kind == OpKind.EndBlock)
                {
                    EndBlock(validator, follower);
                }
                else
                {
                    Submit(validator, op);
                }
            }
            EndBlock(validator, follower);
        }

        private void Submit(TestChain chain, Op op)
        {
            var countBefore = chain.Chain.MempoolCount;
            var (wire, expected) = Build(chain, op);

            var check = chain.Chain.CheckTx(wire, addToMempool: true);

            Assert.NotEqual(TxCode.Overflow, check.Result.Code);
            if (check.IsOk)
            {
                Assert.Null(expected);
                var tx = Tamper.Decode(wire);
                _admittedNonce[tx.Sender] = tx.Tx.Nonce;
                _sent.Add(tx);
                if (tx.Tx.Body is SubmitJobBody submitted)
                {
                    _submittedJobs.Add(submitted.JobId);
                }
                Assert.Equal(countBefore + 1, chain.Chain.MempoolCount);
            }
            else
            {
                if (expected is { } codes)
                {
                    Assert.Contains(check.Result.Code, codes);
                }
                Assert.False(string.IsNullOrWhiteSpace(check.Result.Log), $"{check.Result.Code} without a log");
                Assert.Equal(countBefore, chain.Chain.MempoolCount);
            }
        }

        /// <summary>The wire bytes for an op, and for deliberately broken ones the codes they must be refused with.</summary>
        private (byte[] Wire, TxCode[]? Expected) Build(TestChain chain, Op op)
        {
            var signer = Parties[op.Signer];
            switch (op.Kind)
            {
                case OpKind.Replay when _sent.Count > 0:
                    return (_sent[op.Receipt % _sent.Count].WireBytes, [TxCode.DuplicateTx, TxCode.BadNonce]);
                case OpKind.Replay:
                case OpKind.Garbage:
                    return (Encoding.UTF8.GetBytes($"{{\"garbage\":{op.Amount}}}"), [TxCode.Malformed]);
                case OpKind.WrongChain:
                    return (new TxFactory("aitbc-elsewhere").SignWithNonce(signer, NextNonce(signer), Bodies.Transfer(Bob, 1)).WireBytes, [TxCode.WrongChainId]);
                case OpKind.ForgedSignature:
                    var honest = chain.Txs.SignWithNonce(signer, NextNonce(signer), Bodies.Transfer(Alice, 1));
                    return (Tamper.Edit(honest, json => json["body"]!["amount"] = "2"), [TxCode.BadSignature]);
            }
            // Mostly the coordinator, sometimes an impostor, sometimes the other coordinator (which opens no escrow: no client approves it).
            var escrowSigner = op.Signer switch { >= 2 => Coordinator, 1 when op.Target == 4 => OtherCoordinator, _ => signer };
            var (sender, body) = op.Kind switch
            {
                OpKind.Transfer => (signer, (TxBody)Bodies.Transfer(Parties[op.Target], op.Amount)),
                OpKind.Approve => (op.Signer == 0 ? Coordinator : Client(op.Signer), Bodies.Approve(op.Target <= 3 ? Coordinator : Bob, op.Amount * 20)),
                OpKind.RegisterMiner => (signer, Bodies.RegisterMiner(op.Amount)),
                OpKind.Unstake => (signer, Bodies.Unstake(op.Amount)),
                OpKind.SubmitJob => (escrowSigner, Bodies.SubmitJob(JobIds[op.Job], Client(op.Target), op.Amount)),
                OpKind.RecordReceipt => (escrowSigner, Receipt(op, JobFor(op))),
                OpKind.RefundJob => (escrowSigner, Bodies.Refund(JobFor(op))),
                _ => throw new InvalidOperationException($"unhandled {op.Kind}"),
            };
            var nonce = (long)NextNonce(sender) + op.NonceSkew;
            var wire = chain.Txs.SignWithNonce(sender, (ulong)Math.Max(0, nonce), body).WireBytes;
            // A stale nonce can rebuild, byte for byte, a transaction still waiting in the mempool: that one is a duplicate.
            return (wire, op.NonceSkew == 0 ? null : nonce < 1 ? [TxCode.Malformed] : [TxCode.BadNonce, TxCode.DuplicateTx]);
        }

        /// <summary>Mostly the clients who approve the coordinator; sometimes a party who never does.</summary>
        private static Ed25519KeyPair Client(int target) => target switch { <= 1 => Alice, 2 or 3 => Bob, _ => Miner };

        /// <summary>Mostly a job submitted earlier in this history (open or closed by now), else any id, possibly unknown.</summary>
        private string JobFor(Op op) => _submittedJobs.Count > 0 && op.Job < 4 ? _submittedJobs[op.Job % _submittedJobs.Count] : JobIds[op.Job];

        private static RecordReceiptBody Receipt(Op op, string jobId)
        {
            var miner = op.Target switch { <= 2 => Miner, 3 => OtherMiner, _ => Bob };
            var other = miner == Miner ? OtherMiner : Miner;
            var body = Bodies.Receipt($"rcpt-{op.Receipt}", jobId, miner, op.Amount, op.Proof == ProofMode.OtherMinersKey ? other : miner);
            return op.Proof == ProofMode.Forged ? body with { MinerSignature = Convert.ToBase64String(new byte[64]) } : body;
        }

        private ulong NextNonce(Ed25519KeyPair key) => _admittedNonce.GetValueOrDefault(key.Address) + 1;

        private void EndBlock(TestChain validator, TestChain follower)
        {
            if (validator.Chain.MempoolCount == 0)
            {
                Assert.Null(validator.Chain.ProduceBlockAsync(CancellationToken.None).GetAwaiter().GetResult());
                return;
            }
            IReadOnlyList<TxResult> results = [];
            validator.Chain.BlockCommitted += Capture;
            Block block;
            try
            {
                validator.Time.Advance(TimeSpan.FromSeconds(1));
                block = validator.Chain.ProduceBlockAsync(CancellationToken.None).GetAwaiter().GetResult()!;
            }
            finally
            {
                validator.Chain.BlockCommitted -= Capture;
            }

            // CheckTx ran each transaction over the same state in the same order, so the block must agree with it.
            Assert.All(results, r => Assert.True(r.IsOk, $"admitted but failed in the block: {r.Code} {r.Log}"));
            Assert.Equal(0, validator.Chain.MempoolCount);
            Assert.Equal(validator.Genesis.TotalSupply, validator.Chain.ComputeSupply());
            foreach (var party in Parties)
            {
                Assert.Equal(_admittedNonce.GetValueOrDefault(party.Address), validator.Account(party).Nonce);
            }
            CheckEscrowsCloseOnce(validator, results);

            follower.Chain.ImportBlock(validator.StoredBlock(block.Height));
            Assert.Equal(validator.Chain.Status.AppHash, follower.Chain.Status.AppHash);
            Assert.Equal(follower.Genesis.TotalSupply, follower.Chain.ComputeSupply());

            void Capture(Block _, IReadOnlyList<TxResult> r) => results = r;
        }

        private void CheckEscrowsCloseOnce(TestChain chain, IReadOnlyList<TxResult> results)
        {
            foreach (var e in results.SelectMany(r => r.Events).Where(e => e.Type is TxType.RecordReceipt or TxType.RefundJob))
            {
                var jobId = e.Attributes.Single(a => a.Key == "job_id").Value;
                _closings[jobId] = _closings.GetValueOrDefault(jobId) + 1;
                Assert.True(_closings[jobId] == 1, $"escrow of {jobId} closed {_closings[jobId]} times");
            }
            foreach (var jobId in JobIds)
            {
                var escrow = chain.Escrow(jobId);
                if (_closedEscrows.TryGetValue(jobId, out var closed))
                {
                    Assert.Equal(closed, escrow);
                }
                else if (escrow is { IsOpen: false })
                {
                    Assert.Equal(escrow.Amount, escrow.Paid.GetValueOrDefault() + escrow.Refunded.GetValueOrDefault());
                    _closedEscrows[jobId] = escrow;
                }
            }
        }
    }
}
