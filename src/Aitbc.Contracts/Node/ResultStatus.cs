namespace Aitbc.Contracts.Node;

/// <summary>The answer to <c>status</c>: who the node is, the state of its chain and its validator.</summary>
public sealed record ResultStatus(CometNodeInfo NodeInfo, CometSyncInfo SyncInfo, CometValidatorInfo ValidatorInfo);
