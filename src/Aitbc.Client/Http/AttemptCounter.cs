namespace Aitbc.Client.Http;

/// <summary>
/// Counts the attempts the retry pipeline makes for one request, so a final failure can say how often it tried.
/// Sits inside the resilience handler; the count travels in the request's options.
/// </summary>
public sealed class AttemptCounter : DelegatingHandler
{
    internal static readonly HttpRequestOptionsKey<AttemptCount> Key = new("aitbc.attempts");

    public AttemptCounter()
    {
    }

    public AttemptCounter(HttpMessageHandler inner)
        : base(inner)
    {
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Options.TryGetValue(Key, out var count))
        {
            count.Increment();
        }
        return base.SendAsync(request, cancellationToken);
    }
}

/// <summary>A mutable attempt count shared between a caller and <see cref="AttemptCounter"/>.</summary>
internal sealed class AttemptCount
{
    private int _value;

    public int Value => Volatile.Read(ref _value);

    public void Increment() => Interlocked.Increment(ref _value);
}
