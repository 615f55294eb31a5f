using Aitbc.Chain;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node;

/// <summary>Runs the validator's block production loop for the life of the host; a failure to commit stops the node (exit code 1) rather than letting it run on with a broken chain.</summary>
public sealed class BlockProducerService(Blockchain chain, IHostApplicationLifetime lifetime, ILogger<BlockProducerService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        chain.BlockCommitted += (block, results) =>
            logger.LogInformation("committed block {Height} with {Txs} txs ({Failed} failed) app_hash={AppHash}",
                block.Height, block.Txs.Count, results.Count(r => !r.IsOk), chain.Status.AppHash);
        try
        {
            await chain.RunProducerAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            logger.LogCritical(e, "block production failed; stopping the node");
            // A non-zero exit, so a supervisor (systemd's Restart=on-failure) brings the node back once the cause (a full disk, say) is gone.
            Environment.ExitCode = 1;
            lifetime.StopApplication();
        }
    }
}
