namespace Aitbc.Devnet;

/// <summary>JSON of <c>aitbc up</c> once it is running.</summary>
public sealed record DevnetView(string CoordinatorUrl, string NodeUrl, IReadOnlyList<string> MinerUrls, string ChainId, string Backend, IReadOnlyList<string> Models, string EnvFile, string DataDir);
