namespace Aitbc.Miner.Gpu;

/// <summary>What the GPUs did while one job ran: the figures a job's metrics and the heartbeat report.</summary>
public sealed record GpuUsage(double? MeanUtilizationPercent, long? PeakMemoryUsedMiB, int Samples);

/// <summary>
/// Samples the GPUs at a fixed interval while a job runs, from its start until <see cref="StopAsync"/>: a single
/// reading at the end would miss a generation that finished a moment before.
/// </summary>
public sealed class GpuJobSampler : IAsyncDisposable
{
    private readonly List<GpuSample> _samples = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private readonly Action<int>? _sampled;

    private GpuJobSampler(GpuMonitor monitor, TimeSpan interval, TimeProvider time, Action<int>? sampled)
    {
        _sampled = sampled;
        // The timer exists before the first sample, so a tick that falls while sampling is remembered, not lost.
        _loop = monitor.Available ? RunAsync(monitor, new PeriodicTimer(interval, time)) : Task.CompletedTask;
    }

    /// <summary>Takes a first sample at once, then one each <paramref name="interval"/>; does nothing without a GPU.</summary>
    /// <param name="sampled">Called after each stored sample with the count so far.</param>
    public static GpuJobSampler Start(
        GpuMonitor monitor, TimeSpan interval, TimeProvider? time = null, Action<int>? sampled = null) =>
        new(monitor, interval, time ?? TimeProvider.System, sampled);

    /// <summary>Stops sampling; null when there is no GPU or no sample was taken (absent, not zero).</summary>
    public async Task<GpuUsage?> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        lock (_samples)
        {
            if (_samples.Count == 0)
            {
                return null;
            }
            var devices = _samples.SelectMany(s => s.Devices).ToList();
            var utilizations = _samples.Select(s => s.UtilizationPercent).OfType<double>().ToList();
            var memory = devices.Select(d => d.MemoryUsedMiB).OfType<long>().ToList();
            return new GpuUsage(
                utilizations.Count == 0 ? null : utilizations.Average(),
                memory.Count == 0 ? null : memory.Max(),
                _samples.Count);
        }
    }

    private async Task RunAsync(GpuMonitor monitor, PeriodicTimer timer)
    {
        // Off the caller's thread: starting a process is slow, and the job must not wait for it.
        await Task.Yield();
        using (timer)
        {
            try
            {
                do
                {
                    if (await monitor.SampleAsync(_stop.Token).ConfigureAwait(false) is { } sample)
                    {
                        int count;
                        lock (_samples)
                        {
                            _samples.Add(sample);
                            count = _samples.Count;
                        }
                        _sampled?.Invoke(count);
                    }
                }
                while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopped: the samples so far are the answer.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
