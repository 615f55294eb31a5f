using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Aitbc.Coordinator.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace Aitbc.Coordinator.Http;

/// <summary>
/// Token buckets (<see cref="CoordinatorOptions.RateLimitPerSecond"/> sustained, <see cref="CoordinatorOptions.RateLimitBurst"/>
/// burst): one per API key that has authenticated (<see cref="AuthenticatedKeys"/>), and one per remote address shared by
/// every other request: those without a key, and those whose key is unknown, invalid, or not seen lately. Limiting runs
/// before authentication, so a presented key earns its own bucket only by authenticating; until then it costs its address's
/// tokens, and a flood of made-up keys is refused with 429 before any of them is looked up. IPv6 addresses share a bucket
/// per /64, the block one host is usually given. Over the limit: 429 with a problem body and <c>Retry-After</c>.
/// </summary>
public static class RateLimits
{
    public static void Configure(RateLimiterOptions limits, CoordinatorOptions options, AuthenticatedKeys authenticated)
    {
        limits.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, Partition>(http =>
            RateLimitPartition.GetTokenBucketLimiter(PartitionOf(http, authenticated), _ => new TokenBucketRateLimiterOptions
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
            await Problems.TooManyRequests($"rate limit of {options.RateLimitPerSecond} requests per second exceeded (per API key once it has authenticated, "
                + $"else per remote address); retry after {retryAfter} s")
                .ExecuteAsync(context.HttpContext).ConfigureAwait(false);
        };
    }

    // Runs on every request: the key is hashed on the stack and the partition is a value, so choosing it allocates nothing.
    private static Partition PartitionOf(HttpContext http, AuthenticatedKeys authenticated)
    {
        var key = http.Request.Headers[ApiKeyAuth.MinerKeyHeader].FirstOrDefault() ?? http.Request.Headers[ApiKeyAuth.ApiKeyHeader].FirstOrDefault();
        if (key is { Length: > 0 and <= AuthenticatedKeys.MaxKeyLength })
        {
            var fingerprint = AuthenticatedKeys.Fingerprint(key);
            if (authenticated.Contains(fingerprint))
            {
                return new Partition(fingerprint, PartitionKind.Key);
            }
        }
        return AddressPartition(http.Connection.RemoteIpAddress);
    }

    private static Partition AddressPartition(IPAddress? address)
    {
        if (address is null)
        {
            return new Partition(default, PartitionKind.NoAddress);
        }
        Span<byte> bytes = stackalloc byte[16];
        bytes.Clear();
        address.TryWriteBytes(bytes, out var written);
        if (address.IsIPv4MappedToIPv6)
        {
            // A dual-stack socket's IPv4 client: the same bucket as when it arrives as plain IPv4.
            bytes[12..].CopyTo(bytes);
            bytes[4..].Clear();
            written = 4;
        }
        if (written == 16)
        {
            // Only the /64 prefix: a host given a /64 could otherwise take a fresh bucket per address.
            bytes[8..].Clear();
            return new Partition(BinaryPrimitives.ReadUInt128BigEndian(bytes), PartitionKind.Address6);
        }
        return new Partition(BinaryPrimitives.ReadUInt128BigEndian(bytes), PartitionKind.Address4);
    }

    private enum PartitionKind : byte
    {
        Key,
        Address4,
        Address6,
        NoAddress,
    }

    /// <summary>A bucket: an authenticated key's fingerprint, or a remote address (IPv4, or an IPv6 /64).</summary>
    private readonly record struct Partition(UInt128 Value, PartitionKind Kind);
}
