using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Aitbc.Coordinator.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Aitbc.Coordinator.Http;

/// <summary>
/// A token bucket per API key (<see cref="CoordinatorOptions.RateLimitPerSecond"/> sustained, <see cref="CoordinatorOptions.RateLimitBurst"/>
/// burst), keyed by a hash of the presented key so that limiting runs before authentication; requests without a key share
/// a bucket per remote address. Over the limit: 429 with a problem body and <c>Retry-After</c>.
/// </summary>
public static class RateLimits
{
    public static void Configure(RateLimiterOptions limits, CoordinatorOptions options)
    {
        limits.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Partition>(http =>
            RateLimitPartition.GetTokenBucketLimiter(PartitionOf(http), _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.RateLimitBurst,
                TokensPerPeriod = options.RateLimitPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        limits.OnRejected = async (context, cancellationToken) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
            context.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
            await Problems.TooManyRequests($"rate limit of {options.RateLimitPerSecond} requests per second per key exceeded; retry after {retryAfter} s")
                .ExecuteAsync(context.HttpContext).ConfigureAwait(false);
        };
    }

    // Runs on every request: the key is hashed on the stack and the partition is a value, so choosing it allocates nothing.
    private static Partition PartitionOf(HttpContext http)
    {
        var key = http.Request.Headers[ApiKeyAuth.MinerKeyHeader].FirstOrDefault() ?? http.Request.Headers[ApiKeyAuth.ApiKeyHeader].FirstOrDefault();
        if (key is not { Length: > 0 and <= MaxKeyLength })
        {
            return new Partition(default, http.Connection.RemoteIpAddress);
        }
        Span<byte> utf8 = stackalloc byte[MaxKeyLength * 3];
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(key, utf8)], hash);
        return new Partition(BinaryPrimitives.ReadUInt128LittleEndian(hash), null);
    }

    // Longer key texts are not keys (ApiKeyAuth refuses them) and share their address's bucket.
    private const int MaxKeyLength = 256;

    /// <summary>A bucket: 128 bits of the presented key's SHA-256 (the key itself is never held), or the remote address when no key was sent.</summary>
    private readonly record struct Partition(UInt128 KeyHash, IPAddress? Address);
}
