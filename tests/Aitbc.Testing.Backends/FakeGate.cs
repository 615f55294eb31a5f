namespace Aitbc.Testing;

/// <summary>
/// Holds a fake model's generations until a test opens it, so the test decides when a job's answer comes (or, closed
/// for a while, makes a backend that hangs and then recovers).
/// </summary>
public sealed class FakeGate(bool open)
{
    private TaskCompletionSource _opened = NewGate(open);
    private int _waiting;

    /// <summary>How many generations wait at the gate right now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Lets every waiting (and later) generation through.</summary>
    public void Open() => Volatile.Read(ref _opened).TrySetResult();

    /// <summary>Holds later generations until <see cref="Open"/>; closing a closed gate changes nothing.</summary>
    public void Close()
    {
        var current = Volatile.Read(ref _opened);
        if (current.Task.IsCompleted)
        {
            Interlocked.CompareExchange(ref _opened, NewGate(open: false), current);
        }
    }

    /// <summary>Completes once the gate is open, counting the caller as waiting until then.</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await Volatile.Read(ref _opened).Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private static TaskCompletionSource NewGate(bool open)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
        {
            gate.SetResult();
        }
        return gate;
    }
}
