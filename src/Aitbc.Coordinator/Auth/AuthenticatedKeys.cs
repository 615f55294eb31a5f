using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Aitbc.Coordinator.Auth;

/// <summary>
/// Presented keys that authenticated lately, by 128 bits of their SHA-256 (the key itself is never held). Only these get a
/// rate-limit bucket of their own (<see cref="Http.RateLimits"/>): any other key, made up, revoked or real but not seen
/// lately, is limited by its remote address's bucket before it is looked up, so a flood of random keys is throttled like
/// requests without a key instead of buying a fresh bucket per key. An entry lives while its key keeps authenticating and
/// for <see cref="Memory"/> after; at most <see cref="CoordinatorOptions.ApiKeyCacheCapacity"/> are held, and a key beyond
/// that is limited by its address until room frees.
/// </summary>
public sealed class AuthenticatedKeys(CoordinatorOptions options)
{
    /// <summary>How long a key that stopped sending keeps its own bucket: long enough that a client's pauses do not send it back to its address's bucket.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(10);

    /// <summary>Longer key texts are not keys (<see cref="ApiKeyAuth"/> refuses them unread).</summary>
    public const int MaxKeyLength = 256;

    private readonly ConcurrentDictionary<UInt128, long> _expiresAt = new();
    private readonly long _memoryTicks = (long)(Memory.TotalSeconds * options.Time.TimestampFrequency);

    /// <summary>How many keys are held now (expired ones included until they are swept).</summary>
    public int Count => _expiresAt.Count;

    /// <summary>128 bits of the SHA-256 of <paramref name="key"/> (at most <see cref="MaxKeyLength"/> characters), hashed on the stack.</summary>
    public static UInt128 Fingerprint(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[MaxKeyLength * 3];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>Whether the key with <paramref name="fingerprint"/> authenticated within <see cref="Memory"/>.</summary>
    public bool Contains(UInt128 fingerprint) =>
        _expiresAt.TryGetValue(fingerprint, out var expiresAt) && options.Time.GetTimestamp() < expiresAt;

    /// <summary>Notes that the key with <paramref name="fingerprint"/> just authenticated.</summary>
    public void Authenticated(UInt128 fingerprint)
    {
        var now = options.Time.GetTimestamp();
        if (_expiresAt.TryGetValue(fingerprint, out var expiresAt))
        {
            // Written again only once half its memory has passed, so a busy key does not write on every request.
            if (expiresAt - now < _memoryTicks / 2)
            {
                _expiresAt[fingerprint] = now + _memoryTicks;
            }
            return;
        }
        if (_expiresAt.Count >= options.ApiKeyCacheCapacity)
        {
            foreach (var (key, at) in _expiresAt)
            {
                if (at <= now)
                {
                    _expiresAt.TryRemove(KeyValuePair.Create(key, at));
                }
            }
            if (_expiresAt.Count >= options.ApiKeyCacheCapacity)
            {
                return;
            }
        }
        _expiresAt[fingerprint] = now + _memoryTicks;
    }

    /// <summary>Forgets the key with <paramref name="fingerprint"/>: it failed to authenticate (revoked), so it goes back to its address's bucket.</summary>
    public void Refused(UInt128 fingerprint) => _expiresAt.TryRemove(fingerprint, out _);
}
