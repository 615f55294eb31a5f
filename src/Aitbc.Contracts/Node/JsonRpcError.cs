namespace Aitbc.Contracts.Node;

/// <summary>
/// A JSON-RPC 2.0 error as CometBFT sends it: the code, a short message, and the human detail in <c>data</c>; a reader
/// takes a message or data that is left out as empty.
/// </summary>
public sealed record JsonRpcError(int Code, string? Message = null, string? Data = null);
