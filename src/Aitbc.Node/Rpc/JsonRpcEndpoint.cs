using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node.Rpc;

/// <summary>
/// JSON-RPC 2.0 over HTTP as CometBFT serves it: POST / with a request or a batch, and GET /&lt;method&gt;?args.
/// Every failure becomes a JSON-RPC error in a 200 answer; nothing a client sends can make it throw.
/// </summary>
public sealed class JsonRpcEndpoint(NodeRpc rpc, NodeMetrics metrics, ILogger<JsonRpcEndpoint> logger)
{
    public const int MaxBodyBytes = 8 * 1024 * 1024;
    public const int MaxBatch = 1000;

    public async Task HandlePostAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        byte[] body;
        try
        {
            body = await ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        }
        catch (BadHttpRequestException e)
        {
            await WriteAsync(context, w => WriteError(w, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", e.Message))).ConfigureAwait(false);
            return;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            await WriteAsync(context, w => WriteError(w, null, new RpcException(RpcErrorCode.ParseError, "Parse error", $"error unmarshaling request: {e.Message}"))).ConfigureAwait(false);
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                var count = root.GetArrayLength();
                if (count is 0 or > MaxBatch)
                {
                    await WriteAsync(context, w => WriteError(w, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", $"a batch holds 1 to {MaxBatch} requests"))).ConfigureAwait(false);
                    return;
                }
                var admitted = rpc.TryAdmitBroadcastBatch(root);
                var answers = new (JsonElement? Id, JsonNode? Result, RpcException? Error)[count];
                if (admitted is not null)
                {
                    for (var a = 0; a < count; a++)
                    {
                        answers[a] = (admitted[a].Id, admitted[a].Result, null);
                    }
                    metrics.RpcRequests("broadcast_tx_sync", count);
                }
                else
                {
                    var i = 0;
                    foreach (var request in root.EnumerateArray())
                    {
                        answers[i++] = await DispatchAsync(request, cancellationToken).ConfigureAwait(false);
                    }
                }
                await WriteAsync(context, w =>
                {
                    w.WriteStartArray();
                    foreach (var answer in answers)
                    {
                        WriteAnswer(w, answer);
                    }
                    w.WriteEndArray();
                }).ConfigureAwait(false);
                return;
            }
            var single = await DispatchAsync(root, cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, w => WriteAnswer(w, single)).ConfigureAwait(false);
        }
    }

    public async Task HandleGetAsync(HttpContext context, string method)
    {
        var answer = await InvokeAsync(method, () => RpcParams.FromQuery(context.Request.Query), context.RequestAborted).ConfigureAwait(false);
        using var idDocument = JsonDocument.Parse("-1");
        await WriteAsync(context, w => WriteAnswer(w, (idDocument.RootElement, answer.Result, answer.Error))).ConfigureAwait(false);
    }

    private async Task<(JsonElement? Id, JsonNode? Result, RpcException? Error)> DispatchAsync(JsonElement request, CancellationToken cancellationToken)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return (null, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", "a request must be a JSON object"));
        }
        JsonElement? id = request.TryGetProperty("id", out var idElement) && idElement.ValueKind is JsonValueKind.Number or JsonValueKind.String ? idElement : null;
        if (request.TryGetProperty("jsonrpc", out var version) && (version.ValueKind != JsonValueKind.String || version.GetString() != "2.0"))
        {
            return (id, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", "jsonrpc must be \"2.0\""));
        }
        if (!request.TryGetProperty("method", out var methodElement) || methodElement.ValueKind != JsonValueKind.String)
        {
            return (id, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", "method must be a string"));
        }
        JsonElement? parameters = request.TryGetProperty("params", out var p) ? p : null;
        var (result, error) = await InvokeAsync(methodElement.GetString()!, () => RpcParams.FromJson(parameters), cancellationToken).ConfigureAwait(false);
        return (id, result, error);
    }

    private async Task<(JsonNode? Result, RpcException? Error)> InvokeAsync(string method, Func<RpcParams> parameters, CancellationToken cancellationToken)
    {
        if (!rpc.TryGetMethod(method, out var handler))
        {
            metrics.RpcRequest("unknown", ok: false);
            return (null, new RpcException(RpcErrorCode.MethodNotFound, "Method not found", $"unknown method '{Truncate(method)}'"));
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await handler(parameters(), cancellationToken).ConfigureAwait(false);
            metrics.RpcRequest(method, ok: true);
            return (result, null);
        }
        catch (RpcException e)
        {
            metrics.RpcRequest(method, ok: false);
            logger.LogDebug("rpc {Method} refused: {Detail}", method, e.Detail);
            return (null, e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (null, RpcException.Internal("request cancelled"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            metrics.RpcRequest(method, ok: false);
            logger.LogError(e, "rpc {Method} failed after {Elapsed} ms", method, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return (null, RpcException.Internal(e.Message));
        }
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new BadHttpRequestException($"request body exceeds {MaxBodyBytes} bytes");
        }
        // ArrayBufferWriter refuses a capacity of 0, which an empty body (Content-Length: 0) would ask for.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, MaxBodyBytes));
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            var read = await request.Body.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBodyBytes)
            {
                throw new BadHttpRequestException($"request body exceeds {MaxBodyBytes} bytes");
            }
        }
    }

    private static void WriteAnswer(Utf8JsonWriter writer, (JsonElement? Id, JsonNode? Result, RpcException? Error) answer)
    {
        if (answer.Error is not null)
        {
            WriteError(writer, answer.Id, answer.Error);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        WriteId(writer, answer.Id);
        writer.WritePropertyName("result");
        if (answer.Result is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            answer.Result.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    private static void WriteError(Utf8JsonWriter writer, JsonElement? id, RpcException error)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        WriteId(writer, id);
        writer.WriteStartObject("error");
        writer.WriteNumber("code", error.Code);
        writer.WriteString("message", error.Message);
        writer.WriteString("data", error.Detail ?? "");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteId(Utf8JsonWriter writer, JsonElement? id)
    {
        writer.WritePropertyName("id");
        if (id is { } value)
        {
            value.WriteTo(writer);
        }
        else
        {
            writer.WriteNullValue();
        }
    }

    private static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            write(writer);
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
