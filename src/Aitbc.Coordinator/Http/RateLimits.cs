using System.Globalization;
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
        limits.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
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

    private static string PartitionOf(HttpContext http)
    {
        var key = http.Request.Headers[ApiKeyAuth.MinerKeyHeader].FirstOrDefault() ?? http.Request.Headers[ApiKeyAuth.ApiKeyHeader].FirstOrDefault();
        return key is { Length: > 0 and <= 256 }
            ? "key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 12)
            : "ip:" + http.Connection.RemoteIpAddress;
    }
}
