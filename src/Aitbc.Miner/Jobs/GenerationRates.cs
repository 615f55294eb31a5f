namespace Aitbc.Miner.Jobs;

/// <summary>
/// This miner's measured generation speed per model (tokens per second of compute, a moving average over its completed
/// jobs), so that it refuses a job it cannot finish before the job's deadline instead of taking it and timing out.
/// </summary>
public sealed class GenerationRates
{
    /// <summary>How much each completed job moves the average: recent jobs count most, one outlier does not decide.</summary>
    private const double Weight = 0.2;

    private readonly Dictionary<string, double> _rates = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Adds a completed job of <paramref name="model"/>: <paramref name="tokens"/> generated in <paramref name="computeSeconds"/>.</summary>
    public void Record(string model, int tokens, double computeSeconds)
    {
        if (tokens <= 0 || computeSeconds <= 0)
        {
            return;
        }
        var rate = tokens / computeSeconds;
        lock (_gate)
        {
            _rates[model] = _rates.TryGetValue(model, out var average) ? average + (Weight * (rate - average)) : rate;
        }
    }

    /// <summary>Tokens per second measured for <paramref name="model"/>; null before a job of it completed.</summary>
    public double? RateOf(string model)
    {
        lock (_gate)
        {
            return _rates.TryGetValue(model, out var rate) ? rate : null;
        }
    }

    /// <summary>The compute time <paramref name="tokens"/> take on <paramref name="model"/> at its measured rate; null while unknown.</summary>
    public TimeSpan? TimeFor(string model, int tokens) => RateOf(model) is { } rate ? TimeSpan.FromSeconds(tokens / rate) : null;
}
