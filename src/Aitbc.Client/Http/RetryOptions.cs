namespace Aitbc.Client.Http;

/// <summary>How a client retries transient failures (network errors, timeouts, HTTP 5xx, 408 and 429): every default in one place.</summary>
public sealed record RetryOptions
{
    /// <summary>Retries after the first attempt; 3 means at most 4 attempts.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first backoff; each later one doubles it (with jitter), up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest wait a server's <c>Retry-After</c> may ask for; a longer one is cut to this, so a
    /// misconfigured proxy cannot park a caller for an hour.
    /// </summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Limit on one attempt. Generous by default because <c>broadcast_tx_commit</c> legitimately waits for a block
    /// (the node gives up after its own commit timeout, 10 s by default).
    /// </summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Randomises backoffs so that many clients failing together do not retry in lockstep.</summary>
    public bool UseJitter { get; init; } = true;

    /// <summary>The jitter's source of numbers in [0, 1); null uses a shared random. Tests pass a fixed one.</summary>
    public Func<double>? Randomizer { get; init; }

    /// <summary>Fails fast, naming the setting, on values the retry pipeline cannot run with.</summary>
    public RetryOptions Validate()
    {
        if (MaxRetries is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must be between 0 and 100");
        }
        if (BaseDelay < TimeSpan.Zero || MaxDelay < BaseDelay || MaxRetryAfter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(BaseDelay), "delays must be non-negative and MaxDelay at least BaseDelay");
        }
        if (AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "AttemptTimeout must be positive");
        }
        return this;
    }
}
