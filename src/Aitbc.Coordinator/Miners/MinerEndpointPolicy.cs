using System.Net;
using System.Net.Sockets;
using Aitbc.Core.Net;

namespace Aitbc.Coordinator.Miners;

/// <summary>
/// Where the coordinator will POST assignments. A miner key chooses its endpoint, so without a check it could make the
/// coordinator send requests into the network it runs in (its database, a cloud metadata service, an admin port). Outside
/// development mode (<see cref="CoordinatorOptions.AllowPrivateMinerEndpoints"/>) an endpoint must be an absolute http(s) URL
/// without user information whose host, named or literal, resolves only to public addresses; the push client re-checks
/// the addresses it connects to (a name may resolve differently later) and follows no redirect, in any mode.
/// </summary>
public sealed class MinerEndpointPolicy(CoordinatorOptions options)
{
    private static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(5);

    // Loopback, "this network", private (RFC 1918), shared (RFC 6598), link-local, benchmarking, IETF protocol, multicast
    // and reserved IPv4; unspecified, loopback, IPv4-compatible, ULA, link- and site-local, local-use NAT64 and multicast IPv6.
    private static readonly IPNetwork[] NonPublic =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/4"), IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/96"), IPNetwork.Parse("64:ff9b:1::/48"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("fec0::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    /// <summary>Whether <paramref name="address"/> is a public unicast address (an IPv4-mapped IPv6 address is judged as its IPv4).</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        foreach (var network in NonPublic)
        {
            if (network.Contains(address))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Why <paramref name="text"/> cannot be a miner's endpoint, or null when it can (with <paramref name="endpoint"/> parsed).</summary>
    public async Task<string?> RefusalAsync(string? text, CancellationToken cancellationToken)
    {
        if (text is null || !Uri.TryCreate(text, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            return "endpoint must be an absolute http(s) URL where the miner accepts POST /v1/jobs/assign";
        }
        if (endpoint.UserInfo.Length > 0)
        {
            return "endpoint must not carry user information (user:password@)";
        }
        if (options.AllowPrivateMinerEndpoints)
        {
            return null;
        }
        var host = endpoint.DnsSafeHost;
        if (IPAddress.TryParse(host, out var literal))
        {
            return IsPublic(literal) ? null : $"endpoint host {host} is not a public address (loopback, private, link-local and reserved ranges are refused unless the coordinator runs in development mode)";
        }
        IPAddress[] addresses;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ResolveTimeout);
            addresses = await Dns.GetHostAddressesAsync(host, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return $"endpoint host {host} does not resolve ({e.Message})";
        }
        if (addresses.Length == 0)
        {
            return $"endpoint host {host} does not resolve";
        }
        if (addresses.FirstOrDefault(a => !IsPublic(a)) is { } inside)
        {
            return $"endpoint host {host} resolves to {inside}, which is not a public address "
                + "(loopback, private, link-local and reserved ranges are refused unless the coordinator runs in development mode)";
        }
        return null;
    }

    /// <summary>
    /// The connection handler for pushes to miners: no redirects (a miner's 3xx is its answer, never a second request
    /// elsewhere with the assign key), no proxy (it would connect for us, unchecked), and, outside development mode,
    /// connections only to public addresses, checked when each connection is made.
    /// </summary>
    public SocketsHttpHandler CreateHandler()
    {
        var handler = Tls.CreateClientHandler();
        handler.AllowAutoRedirect = false;
        handler.UseProxy = false;
        if (!options.AllowPrivateMinerEndpoints)
        {
            handler.ConnectCallback = ConnectPubliclyAsync;
        }
        return handler;
    }

    private static async ValueTask<Stream> ConnectPubliclyAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var allowed = addresses.Where(IsPublic).ToArray();
        if (allowed.Length == 0)
        {
            throw new HttpRequestException($"miner endpoint host {host} has no public address; the coordinator connects to miners only on public addresses outside development mode");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
