using System.Collections.Concurrent;
using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Auth;

/// <summary>
/// API key rows by id, kept for <see cref="CoordinatorOptions.ApiKeyCacheTtl"/> so that a request does not read its key's
/// row from the database each time. It holds the stored row (hash, role, binding), never a verdict on a presented key:
/// the constant-time hash comparison still runs on every request. Keys created or revoked through this process are
/// dropped at once (<see cref="Invalidate"/>); a key another coordinator on the same database revokes stops working here
/// within the TTL. At most <see cref="CoordinatorOptions.ApiKeyCacheCapacity"/> rows are held.
/// Ids with no row are remembered apart (a negative cache, <see cref="CoordinatorOptions.UnknownKeyCacheTtl"/>, at most
/// <see cref="CoordinatorOptions.UnknownKeyCacheCapacity"/>), so a caller repeating an unknown key costs no database read
/// each time, and made-up ids can neither push real keys out nor grow memory without bound.
/// </summary>
public sealed class ApiKeyCache(ICoordinatorStore store, CoordinatorOptions options, CoordinatorMetrics? metrics = null)
{
    private readonly ConcurrentDictionary<string, Entry> _rows = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _unknown = new(StringComparer.Ordinal);
    private readonly long _ttlTicks = (long)(options.ApiKeyCacheTtl.TotalSeconds * options.Time.TimestampFrequency);
    private readonly long _unknownTtlTicks = (long)(options.UnknownKeyCacheTtl.TotalSeconds * options.Time.TimestampFrequency);
    private long _lookups;

    // Counts invalidations: a lookup that read the database before one finished must not put its row back afterwards.
    private long _invalidations;

    /// <summary>How many rows are held now (expired ones included until they are looked up or swept).</summary>
    public int Count => _rows.Count;

    /// <summary>How many unknown ids are held now.</summary>
    public int UnknownCount => _unknown.Count;

    /// <summary>How many times a key's row was read from the database (rows held and ids known to be unknown are not read).</summary>
    public long Lookups => Interlocked.Read(ref _lookups);

    /// <summary>The stored row of key <paramref name="id"/>, or null when there is none.</summary>
    public async ValueTask<ApiKeyRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var now = options.Time.GetTimestamp();
        if (_rows.TryGetValue(id, out var cached) && now < cached.ExpiresAt)
        {
            return cached.Row;
        }
        if (_unknown.TryGetValue(id, out var unknownUntil) && now < unknownUntil)
        {
            return null;
        }
        var seen = Volatile.Read(ref _invalidations);
        Interlocked.Increment(ref _lookups);
        var row = await store.GetApiKeyAsync(id, cancellationToken).ConfigureAwait(false);
        metrics?.ApiKeyLookup(row is not null);
        if (row is null)
        {
            _rows.TryRemove(id, out _);
            RememberUnknown(id, now, seen);
            return null;
        }
        _unknown.TryRemove(id, out _);
        if (_ttlTicks > 0 && HasRoomFor(id, now))
        {
            var entry = new Entry(row, now + _ttlTicks);
            _rows[id] = entry;
            // An invalidation that ran while the row was read may have removed the key before this put it back: undo it.
            if (Volatile.Read(ref _invalidations) != seen)
            {
                _rows.TryRemove(KeyValuePair.Create(id, entry));
            }
        }
        return row;
    }

    /// <summary>Forgets key <paramref name="id"/>: called after its row is written, so the next request reads the new row.</summary>
    public void Invalidate(string id)
    {
        Interlocked.Increment(ref _invalidations);
        _rows.TryRemove(id, out _);
        _unknown.TryRemove(id, out _);
    }

    private void RememberUnknown(string id, long now, long seen)
    {
        if (_unknownTtlTicks <= 0)
        {
            return;
        }
        // Full: start over rather than sweep, so that a flood of fresh ids costs each insert O(1) on average. Forgetting
        // them costs at most one more read each, and the address's rate limit bounds how fast those come.
        if (_unknown.Count >= options.UnknownKeyCacheCapacity)
        {
            _unknown.Clear();
        }
        _unknown[id] = now + _unknownTtlTicks;
        // A key created through this process while the row was read must not be refused for the TTL.
        if (Volatile.Read(ref _invalidations) != seen)
        {
            _unknown.TryRemove(id, out _);
        }
    }

    // Reached only on a miss, at most once per key per TTL, so the count and the sweep stay off the common path.
    private bool HasRoomFor(string id, long now)
    {
        if (_rows.ContainsKey(id) || _rows.Count < options.ApiKeyCacheCapacity)
        {
            return true;
        }
        foreach (var (key, entry) in _rows)
        {
            if (entry.ExpiresAt <= now)
            {
                _rows.TryRemove(KeyValuePair.Create(key, entry));
            }
        }
        return _rows.Count < options.ApiKeyCacheCapacity;
    }

    private sealed record Entry(ApiKeyRecord Row, long ExpiresAt);
}
