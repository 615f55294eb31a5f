using System.Diagnostics;

namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>Waiting without fixed sleeps: probe often, give up after a deadline with a message that says what never happened.</summary>
public static class Poll
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(25);

    /// <summary>Probes until it returns a value (non-null), or fails the test after <paramref name="timeout"/>.</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var watch = Stopwatch.StartNew();
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or RpcCallException)
            {
                last = e;
            }
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0.#}s waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
            }
            await Task.Delay(Interval);
        }
    }

    public static Task UntilAsync(Func<Task<bool>> probe, TimeSpan timeout, string what) =>
        UntilAsync<object>(async () => await probe() ? true : null, timeout, what);
}
