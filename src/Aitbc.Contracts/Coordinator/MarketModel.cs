namespace Aitbc.Contracts.Coordinator;

/// <summary>A model on offer: how many online miners serve it, their price range and free capacity.</summary>
public sealed record MarketModel(string Model, int Miners, string MinPricePerSecond, string MaxPricePerSecond, int FreeCapacity);
