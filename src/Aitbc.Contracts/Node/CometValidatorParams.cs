namespace Aitbc.Contracts.Node;

/// <summary>The key types validators may use.</summary>
public sealed record CometValidatorParams(IReadOnlyList<string> PubKeyTypes);
