namespace Aitbc.Contracts.Coordinator;

/// <summary>Inference options a job may carry; each is optional and validated by the coordinator.</summary>
public sealed record JobOptions(double? Temperature = null, int? NumPredict = null, long? Seed = null);
