using System.Collections.Concurrent;
using System.Diagnostics;

namespace Aitbc.ServiceDefaults.Tests.Infrastructure;

/// <summary>
/// Listens, as a tracer would, to ASP.NET Core's, HttpClient's and the test service's activities, and keeps those that
/// <c>filter</c> selects (one test's trace: the listener is process-wide, and other tests run beside it).
/// </summary>
public sealed class MatchingActivities : IDisposable
{
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly ActivityListener _listener;

    public MatchingActivities(Func<Activity, bool> filter)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Microsoft.AspNetCore" or "System.Net.Http" || source == TestService.Source,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (filter(activity))
                {
                    _stopped.Enqueue(activity);
                    _signal.Release();
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The first stopped activity that matches <paramref name="match"/>, waiting (at most 10 s) until one has stopped.</summary>
    public async Task<Activity> WaitForAsync(Func<Activity, bool> match)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            if (_stopped.FirstOrDefault(match) is { } found)
            {
                return found;
            }
            await _signal.WaitAsync(deadline.Token);
        }
    }

    /// <summary>Stops listening; the signal is left to the collector, since a callback under way may still release it.</summary>
    public void Dispose() => _listener.Dispose();
}
