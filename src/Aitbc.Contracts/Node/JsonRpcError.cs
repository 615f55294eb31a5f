namespace Aitbc.Contracts.Node;

/// <summary>A JSON-RPC 2.0 error as CometBFT sends it: the code, a short message, and the human detail in <c>data</c>.</summary>
public sealed record JsonRpcError(int Code, string Message = "", string Data = "");
