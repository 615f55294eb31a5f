using Aitbc.Miner.Jobs;

namespace Aitbc.Miner.Tests.Jobs;

public sealed class GenerationRatesTests
{
    [Fact]
    public void Nothing_is_known_before_a_job_of_the_model_completed_then_the_average_follows_completed_jobs()
    {
        var rates = new GenerationRates();
        Assert.Null(rates.TimeFor("m", 100));

        rates.Record("m", 100, 10);
        Assert.Equal(TimeSpan.FromSeconds(10), rates.TimeFor("m", 100));
        // A faster job moves the average a fifth of the way: 10 + 0.2 × (50 − 10) = 18 tokens/s.
        rates.Record("m", 500, 10);
        Assert.Equal(18, rates.RateOf("m")!.Value, 9);
        // Jobs that generated nothing, or took no time, say nothing about speed; other models have their own.
        rates.Record("m", 0, 5);
        rates.Record("m", 5, 0);
        Assert.Equal(18, rates.RateOf("m")!.Value, 9);
        Assert.Null(rates.RateOf("other"));
    }
}
