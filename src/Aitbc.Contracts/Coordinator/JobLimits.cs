namespace Aitbc.Contracts.Coordinator;

/// <summary>What a job may ask for: the coordinator checks submissions against these, and a miner checks assignments again.</summary>
public static class JobLimits
{
    public const string InferenceType = "inference";
    public const int MaxNumPredict = 8192;
    public const double MaxTemperature = 2.0;
}
