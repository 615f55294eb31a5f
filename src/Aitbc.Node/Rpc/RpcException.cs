namespace Aitbc.Node.Rpc;

/// <summary>JSON-RPC 2.0 error codes as CometBFT uses them.</summary>
public static class RpcErrorCode
{
    public const int ParseError = -32700;
    public const int InvalidRequest = -32600;
    public const int MethodNotFound = -32601;
    public const int InvalidParams = -32602;
    public const int InternalError = -32603;

    /// <summary>A call refused because answering it would pass one of the node's <see cref="RpcLimits"/> (JSON-RPC's server-error range).</summary>
    public const int LimitExceeded = -32000;
}

/// <summary>A JSON-RPC error answer: CometBFT puts the human detail in <c>data</c>.</summary>
public sealed class RpcException(int code, string message, string? data = null) : Exception(message)
{
    public int Code { get; } = code;

    public string? Detail { get; } = data;

    public static RpcException InvalidParams(string detail) => new(RpcErrorCode.InvalidParams, "Invalid params", detail);

    public static RpcException Internal(string detail) => new(RpcErrorCode.InternalError, "Internal error", detail);

    public static RpcException LimitExceeded(string detail) => new(RpcErrorCode.LimitExceeded, "Limit exceeded", detail);
}
