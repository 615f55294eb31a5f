using System.Collections.Concurrent;

namespace Aitbc.Coordinator.Jobs;

/// <summary>
/// Counts the <c>GET /v1/jobs/{id}?wait=</c> each API key holds open, so that one key cannot pin an unbounded number of
/// requests (and their subscriptions and timers) for up to <see cref="CoordinatorOptions.MaxWaitSeconds"/> each: at most
/// <see cref="CoordinatorOptions.MaxLongPollsPerKey"/> per key. A key with none open holds no entry.
/// </summary>
public sealed class LongPolls(CoordinatorOptions options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>How many long polls key <paramref name="keyId"/> holds open now.</summary>
    public int OpenFor(string keyId) => _open.GetValueOrDefault(keyId);

    /// <summary>Takes a place for key <paramref name="keyId"/>; null when it already holds its cap. Dispose the place when the poll ends.</summary>
    public IDisposable? TryEnter(string keyId)
    {
        while (true)
        {
            if (_open.TryGetValue(keyId, out var open))
            {
                if (open >= options.MaxLongPollsPerKey)
                {
                    return null;
                }
                if (_open.TryUpdate(keyId, open + 1, open))
                {
                    return new Place(this, keyId);
                }
            }
            else if (_open.TryAdd(keyId, 1))
            {
                return new Place(this, keyId);
            }
        }
    }

    private void Leave(string keyId)
    {
        while (true)
        {
            var open = _open[keyId];
            // The last place removes the entry only if no one entered meanwhile (a compare-and-remove).
            if (open == 1 ? _open.TryRemove(KeyValuePair.Create(keyId, 1)) : _open.TryUpdate(keyId, open - 1, open))
            {
                return;
            }
        }
    }

    private sealed class Place(LongPolls polls, string keyId) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0)
            {
                polls.Leave(keyId);
            }
        }
    }
}
