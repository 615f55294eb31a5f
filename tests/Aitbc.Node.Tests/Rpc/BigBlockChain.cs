using System.Text;
using System.Text.Json;
using Aitbc.Chain;
using Aitbc.Chain.Genesis;
using Aitbc.Core.Crypto;
using Aitbc.Node.Rpc;
using Aitbc.Node.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Aitbc.Node.Tests.Rpc;

/// <summary>
/// A validator chain in this process whose block 1 holds <see cref="TxCount"/> transfers (about 160 KB as a
/// <c>block</c> answer), and a way to post JSON-RPC bodies to an endpoint over it with any <see cref="RpcLimits"/>.
/// </summary>
public sealed class BigBlockChain : IAsyncLifetime
{
    public const int Senders = 6;
    public const int TxsPerSender = 100;
    public const int TxCount = Senders * TxsPerSender;

    private readonly TempDirectory _home = new("limits");
    private readonly List<Wallet> _wallets = [];
    private Blockchain? _chain;

    public Blockchain Chain => _chain ?? throw new InvalidOperationException("not initialised");

    public IReadOnlyList<Wallet> Wallets => _wallets;

    public async Task InitializeAsync()
    {
        var options = new NodeOptions { DataDirectory = _home.Path };
        const string chainId = "aitbc-limits";
        for (var i = 0; i < Senders + 1; i++)
        {
            _wallets.Add(new Wallet($"limits-{i}", chainId));
        }
        GenesisDocument genesis = GenesisInit.Run(options, chainId, [], [.. _wallets.Select(w => GenesisInit.ParseAllocation($"{w.Address.Value}={TestNet.FundedMicro}"))],
            blockIntervalMs: 50, maxBlockTxs: 10_000);
        using var validatorKey = KeyFile.Load(options.ValidatorKeyPath);
        _chain = Blockchain.Open(new ChainOptions { DataDirectory = options.ChainDirectory, ValidatorKey = validatorKey }, genesis);
        var recipient = _wallets[Senders].Address;
        for (var round = 0; round < TxsPerSender; round++)
        {
            foreach (var sender in _wallets.Take(Senders))
            {
                var check = _chain.CheckTx(sender.Transfer(recipient, 1).WireBytes, addToMempool: true);
                Assert.True(check.IsOk, check.Result.Log);
            }
        }
        var block = await _chain.ProduceBlockAsync(CancellationToken.None);
        Assert.Equal(TxCount, block!.Txs.Count);
    }

    public JsonRpcEndpoint Endpoint(RpcLimits limits) =>
        new(new NodeRpc(Chain, new NodeIdentity("limits", "limits", "tcp://127.0.0.1:0")), limits, new NodeMetrics(), NullLogger<JsonRpcEndpoint>.Instance);

    /// <summary>POSTs <paramref name="body"/> as a client would and returns the answer's bytes.</summary>
    public static async Task<byte[]> PostAsync(JsonRpcEndpoint endpoint, string body)
    {
        var context = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.ContentLength = bytes.Length;
        context.Request.Body = new MemoryStream(bytes);
        using var answer = new MemoryStream();
        context.Response.Body = answer;
        await endpoint.HandlePostAsync(context);
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        Assert.Equal(answer.Length, context.Response.ContentLength);
        return answer.ToArray();
    }

    /// <summary>A batch body of <paramref name="calls"/>, ids 0, 1, … in order.</summary>
    public static string Batch(IEnumerable<(string Method, string Params)> calls) =>
        "[" + string.Join(',', calls.Select((c, i) => $$"""{"jsonrpc":"2.0","id":{{i}},"method":"{{c.Method}}","params":{{c.Params}}}""")) + "]";

    /// <summary>The raw text of one call's result, as a single request answers it.</summary>
    public static async Task<string> SingleResultAsync(JsonRpcEndpoint endpoint, string method, string parameters)
    {
        using var answer = JsonDocument.Parse(await PostAsync(endpoint, $$"""{"jsonrpc":"2.0","id":0,"method":"{{method}}","params":{{parameters}}}"""));
        return answer.RootElement.GetProperty("result").GetRawText();
    }

    public Task DisposeAsync()
    {
        _chain?.Dispose();
        foreach (var wallet in _wallets)
        {
            wallet.Dispose();
        }
        _home.Dispose();
        return Task.CompletedTask;
    }
}
