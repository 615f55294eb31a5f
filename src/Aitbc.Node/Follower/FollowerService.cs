using System.Globalization;
using System.Text.Json.Nodes;
using Aitbc.Chain;
using Aitbc.Contracts.Node;
using Aitbc.Node.Rpc;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node.Follower;

/// <summary>
/// Keeps a follower in step with the validator: fetches each new block with its commit, and imports it only
/// after Blockchain.ImportBlock has verified signature, links, data_hash and app_hash by re-execution.
/// A bad block halts syncing for good, with the reason in the log and in /readyz.
/// </summary>
public sealed class FollowerService(Blockchain chain, ValidatorRpcClient validator, NodeOptions options, ILogger<FollowerService> logger) : BackgroundService
{
    private const int BlocksPerBatch = 20;

    public bool CatchingUp { get; private set; } = true;

    public string? HaltReason { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var status = await validator.CallAsync<ResultStatus>("status", [], stoppingToken).ConfigureAwait(false);
                var remoteHeight = status.SyncInfo.LatestBlockHeight;
                while (chain.Status.Height < remoteHeight && !stoppingToken.IsCancellationRequested)
                {
                    CatchingUp = true;
                    await SyncBatchAsync(remoteHeight, stoppingToken).ConfigureAwait(false);
                }
                CatchingUp = false;
                failures = 0;
            }
            catch (InvalidBlockException e)
            {
                HaltReason = e.Message;
                logger.LogCritical("follower stopped syncing: the validator served an invalid block: {Reason}", e.Message);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or RpcException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or FormatException && !stoppingToken.IsCancellationRequested)
            {
                failures++;
                if (failures == 1 || failures % 50 == 0)
                {
                    logger.LogWarning("cannot sync from validator {Url}: {Error}", options.FollowUrl, e.Message);
                }
            }
            await Task.Delay(options.FollowPollInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task SyncBatchAsync(long remoteHeight, CancellationToken cancellationToken)
    {
        var from = chain.Status.Height + 1;
        var to = Math.Min(remoteHeight, from + BlocksPerBatch - 1);
        var calls = new List<(string, JsonObject)>();
        for (var h = from; h <= to; h++)
        {
            calls.Add(("block", new JsonObject { ["height"] = h.ToString(CultureInfo.InvariantCulture) }));
            calls.Add(("commit", new JsonObject { ["height"] = h.ToString(CultureInfo.InvariantCulture) }));
        }
        var answers = await validator.BatchAsync(calls, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < answers.Count; i += 2)
        {
            if ((answers[i].Error ?? answers[i + 1].Error) is { } error)
            {
                // Large blocks pass the validator's batch budget: import those that came, ask again for the rest.
                if (i == 0)
                {
                    throw error;
                }
                return;
            }
            var block = CometMapper.ToBlock(ValidatorRpcClient.Read<ResultBlock>(answers[i].Result), ValidatorRpcClient.Read<ResultCommit>(answers[i + 1].Result));
            chain.ImportBlock(block);
            logger.LogDebug("imported block {Height} ({Txs} txs)", block.Height, block.Txs.Count);
        }
    }
}
