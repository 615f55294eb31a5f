using System.Security.Cryptography;
using System.Text;
using Aitbc.Core;
using Aitbc.Core.Proofs;
using Aitbc.Core.Transactions;
using Aitbc.Node.Tests.Infrastructure;

namespace Aitbc.Node.Tests;

/// <summary>The RPC test classes share one validator process and run one after another.</summary>
[CollectionDefinition(Name)]
public sealed class RpcNodeCollection : ICollectionFixture<RpcNodeFixture>
{
    public const string Name = "rpc-node";
}

/// <summary>
/// One validator process for the RPC tests, with history to query: two transfers, a registered miner, an approval,
/// a job whose escrow was opened and paid by a receipt. Each test class member uses its own wallets, so the
/// tests do not depend on each other's order.
/// </summary>
public sealed class RpcNodeFixture : IAsyncLifetime
{
    public const string JobId = "job-rpc-1";
    public const string ReceiptId = "receipt-rpc-1";
    public const ulong MinerStake = 100_000_000;
    public const ulong JobMax = 10_000_000;
    public const ulong AmountPaid = 4_000_000;

    private TestNet? _net;
    private NodeProcess? _node;

    public TestNet Net => _net ?? throw new InvalidOperationException("fixture not initialised");

    public NodeProcess Node => _node ?? throw new InvalidOperationException("fixture not initialised");

    public RpcClient Rpc => Node.Rpc;

    /// <summary>The first transfer (funded-0 → funded-1) and its block.</summary>
    public SignedTransaction SeedTx { get; private set; } = null!;

    public long SeedHeight { get; private set; }

    public Wallet Miner => Net.Funded[2];

    public Wallet Client => Net.Funded[3];

    /// <summary>Wallets no fixture transaction touched, one per test that sends.</summary>
    public Wallet Spare(int i) => Net.Funded[4 + i];

    public async Task InitializeAsync()
    {
        _net = await TestNet.CreateAsync("rpc", fundedWallets: 12);
        _node = await _net.StartValidatorAsync();
        var f0 = _net.Funded[0];
        SeedTx = f0.Transfer(_net.Funded[1].Address, 1_000_000);
        SeedHeight = await Rpc.CommitOkAsync(SeedTx);
        await Rpc.CommitOkAsync(f0.Transfer(_net.Funded[1].Address, 2_000_000));

        // A job's whole life, so /miner, /job and /receipt have something to show.
        await Rpc.CommitOkAsync(Miner.Sign(new RegisterMinerBody(new Amount(MinerStake))));
        await Rpc.CommitOkAsync(Client.Sign(new ApproveBody(_net.Coordinator.Address, new Amount(50_000_000))));
        var promptHash = ContentHash("what is 2+2?");
        await Rpc.CommitOkAsync(_net.Coordinator.Sign(new SubmitJobBody(JobId, Client.Address, promptHash, new Amount(JobMax))));
        var resultHash = ContentHash("4");
        var proof = new MinerProof(JobId, "tiny-llama", promptHash, resultHash, 1.5, 12);
        await Rpc.CommitOkAsync(_net.Coordinator.Sign(new RecordReceiptBody(ReceiptId, JobId, Miner.Address, new Amount(AmountPaid),
            resultHash, proof.Sign(Miner.Key), proof.Model, promptHash, proof.ComputeTime, proof.TokensGenerated)));
    }

    public static string ContentHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public async Task DisposeAsync()
    {
        if (_net is not null)
        {
            await _net.DisposeAsync();
        }
    }
}
