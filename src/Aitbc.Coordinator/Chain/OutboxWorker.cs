using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Aitbc.Coordinator.Chain;

/// <summary>
/// The background half of the outbox: delivers due rows in order and follows sent ones to their block, waking on a
/// kick (a row queued), at the next row's backoff, or at the poll interval. A crash loses nothing: the rows are in the
/// database and the next start resumes them.
/// </summary>
public sealed class OutboxWorker(OutboxProcessor processor, OutboxSignal signal, CoordinatorOptions options, ILogger<OutboxWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await processor.PumpOnceAsync(stoppingToken).ConfigureAwait(false))
                {
                }
                await processor.ConfirmAsync(stoppingToken).ConfigureAwait(false);
                await WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Node outages are handled per row; this is the database or a bug. Keep going: the rows stay queued.
                logger.LogError(e, "outbox worker pass failed");
                await Task.Delay(options.OutboxMaxBackoff, options.Time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task WaitAsync(CancellationToken stoppingToken)
    {
        var delay = options.OutboxPollInterval;
        if (await processor.NextDueAsync(stoppingToken).ConfigureAwait(false) is { } due)
        {
            var untilDue = TimeSpan.FromMilliseconds(Math.Max(0, due - options.Time.GetUtcNow().ToUnixTimeMilliseconds()));
            delay = untilDue < delay ? untilDue : delay;
        }
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        await signal.WaitAsync(delay, options.Time, stoppingToken).ConfigureAwait(false);
    }
}
