using System.Threading.Channels;

namespace Aitbc.Core.Threading;

/// <summary>
/// Wakes one background worker when there is new work. Kicks made before the worker next waits collapse into one wake-up
/// and none is lost: a kick while the worker is busy is seen by its next wait. Kicking costs no allocation and never
/// throws, however often it is done (a semaphore capped at one throws on every extra release).
/// </summary>
public class WakeSignal
{
    private readonly Channel<bool> _channel = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public virtual void Kick() => KickLocal();

    /// <summary>Wakes this process's worker only (a subclass's <see cref="Kick"/> may also tell other processes).</summary>
    public void KickLocal() => _channel.Writer.TryWrite(true);

    /// <summary>Waits for a kick, and takes it.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken) => await _channel.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Waits for a kick or for <paramref name="other"/> to complete, whichever is first; true when kicked. Takes the kick.</summary>
    public async Task<bool> KickedBeforeAsync(Task other)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return true;
        }
        // WaitToReadAsync takes nothing: a wait left behind when the other task wins cannot swallow a later kick.
        await Task.WhenAny(other, _channel.Reader.WaitToReadAsync().AsTask()).ConfigureAwait(false);
        return _channel.Reader.TryRead(out _);
    }

    /// <summary>Waits for a kick or for <paramref name="timeout"/> on <paramref name="time"/>; true when kicked. Takes the kick either way.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (_channel.Reader.TryRead(out _))
        {
            return true;
        }
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var timer = Task.Delay(timeout, time, wake.Token);
        var kicked = _channel.Reader.WaitToReadAsync(wake.Token).AsTask();
        await Task.WhenAny(timer, kicked).ConfigureAwait(false);
        await wake.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return _channel.Reader.TryRead(out _);
    }
}
