using System.Globalization;

namespace Aitbc.Coordinator.Jobs;

/// <summary>Times on the wire: RFC 3339 UTC with milliseconds; stored as Unix milliseconds.</summary>
public static class Timestamps
{
    public static string Format(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
