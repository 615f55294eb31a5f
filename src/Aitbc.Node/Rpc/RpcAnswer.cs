using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Aitbc.Node.Rpc;

/// <summary>What one call answers: a result and the contract metadata that writes it, or a JSON-RPC error.</summary>
public readonly record struct RpcAnswer
{
    private RpcAnswer(object? result, JsonTypeInfo? resultType, RpcException? error)
    {
        Result = result;
        ResultType = resultType;
        Error = error;
    }

    public object? Result { get; }

    public JsonTypeInfo? ResultType { get; }

    public RpcException? Error { get; }

    public static RpcAnswer Ok(object? result, JsonTypeInfo resultType) => new(result, resultType, null);

    public static RpcAnswer Failed(RpcException error) => new(null, null, error);

    /// <summary>Writes the result; an answer without one (an error) writes null.</summary>
    public void WriteResult(Utf8JsonWriter writer)
    {
        if (Result is null || ResultType is null)
        {
            writer.WriteNullValue();
            return;
        }
        JsonSerializer.Serialize(writer, Result, ResultType);
    }
}
