using Aitbc.Core.Transactions;

namespace Aitbc.Client.Node;

/// <summary>Base of every failure a <see cref="NodeClient"/> reports; its message is one readable sentence.</summary>
public abstract class NodeClientException : Exception
{
    protected NodeClientException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}

/// <summary>The node answered the call with a JSON-RPC error (CometBFT puts the human detail in <c>data</c>).</summary>
public sealed class NodeRpcException(string method, int errorCode, string errorMessage, string? errorData)
    : NodeClientException(string.IsNullOrEmpty(errorData)
        ? $"node RPC {method} failed: {errorMessage} ({errorCode})"
        : $"node RPC {method} failed: {errorData} ({errorMessage}, {errorCode})")
{
    public string Method { get; } = method;

    /// <summary>The JSON-RPC error code, e.g. -32603 (internal error) or -32602 (invalid params).</summary>
    public int ErrorCode { get; } = errorCode;

    public string ErrorMessage { get; } = errorMessage;

    /// <summary>The error's <c>data</c>; named so as not to hide <see cref="Exception.Data"/>.</summary>
    public string? ErrorData { get; } = errorData;
}

/// <summary>The node could not be reached, or kept failing, through every retry.</summary>
public sealed class NodeUnavailableException(Uri nodeUrl, string method, int attempts, string lastError, Exception? inner = null)
    : NodeClientException(attempts > 0
        ? $"node at {nodeUrl} is unavailable ({method}, {attempts} attempt{(attempts == 1 ? "" : "s")}): {lastError}"
        : $"node at {nodeUrl} is unavailable ({method}): {lastError}", inner)
{
    public Uri NodeUrl { get; } = nodeUrl;

    public string Method { get; } = method;

    /// <summary>How many HTTP attempts were made; 0 when the client has no <see cref="Http.AttemptCounter"/> to tell.</summary>
    public int Attempts { get; } = attempts;

    public string LastError { get; } = lastError;
}

/// <summary>Something answered, but not as a node does: a non-JSON body, an HTTP error that retrying cannot fix, a missing field.</summary>
public sealed class NodeProtocolException(Uri nodeUrl, string method, string problem, Exception? inner = null)
    : NodeClientException($"node at {nodeUrl} gave an unexpected answer to {method}: {problem}", inner)
{
    public Uri NodeUrl { get; } = nodeUrl;

    public string Method { get; } = method;
}

/// <summary>An <c>abci_query</c> the ledger refused with a non-zero code (a malformed address, an unknown path).</summary>
public sealed class NodeQueryException(string path, TxCode code, string log)
    : NodeClientException($"query {path} refused: {log} (code {(uint)code} {code})")
{
    public string Path { get; } = path;

    public TxCode Code { get; } = code;

    public string Log { get; } = log;
}
