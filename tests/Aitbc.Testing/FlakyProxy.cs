using System.Net;
using System.Net.Sockets;

namespace Aitbc.Testing;

/// <summary>
/// A TCP proxy on loopback that resets the first <c>refuse</c> connections (as a service that is briefly down does)
/// and forwards the rest to <see cref="Target"/>. Counts every connection it saw.
/// </summary>
public sealed class FlakyProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TcpClient, bool> _open = new();
    private int _refuseRemaining;
    private int _connections;

    public FlakyProxy(Uri target, int refuse)
    {
        Target = target;
        _refuseRemaining = refuse;
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Target { get; }

    public Uri Url { get; }

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Refuses the next <paramref name="count"/> connections.</summary>
    public void Refuse(int count) => Volatile.Write(ref _refuseRemaining, count);

    /// <summary>The link goes down: every open connection is reset and every new one refused, until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        Volatile.Write(ref _refuseRemaining, int.MaxValue);
        foreach (var client in _open.Keys)
        {
            client.Client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
    }

    public void Restore() => Volatile.Write(ref _refuseRemaining, 0);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            if (Volatile.Read(ref _refuseRemaining) == int.MaxValue || Interlocked.Decrement(ref _refuseRemaining) >= 0)
            {
                // RST rather than FIN: the caller sees "connection reset", as from a dead port behind a balancer.
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }
            _ = PipeAsync(client);
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        _open[client] = true;
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(Target.Host, Target.Port, _stop.Token);
                var a = client.GetStream();
                var b = upstream.GetStream();
                await Task.WhenAny(a.CopyToAsync(b, _stop.Token), b.CopyToAsync(a, _stop.Token));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                _open.TryRemove(client, out _);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
