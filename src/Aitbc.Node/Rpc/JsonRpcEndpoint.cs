using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node.Rpc;

/// <summary>One well-formed JSON-RPC request: its id (null when absent or null), method and params as sent.</summary>
public sealed record RpcCall(JsonElement? Id, string Method, JsonElement? Params);

/// <summary>
/// JSON-RPC 2.0 over HTTP as CometBFT serves it: POST / with a request or a batch, and GET /&lt;method&gt;?args.
/// Every failure becomes a JSON-RPC error in a 200 answer; nothing a client sends can make it throw.
/// </summary>
public sealed class JsonRpcEndpoint(NodeRpc rpc, NodeMetrics metrics, ILogger<JsonRpcEndpoint> logger)
{
    public const int MaxBodyBytes = 8 * 1024 * 1024;
    public const int MaxBatch = 1000;

    private static readonly JsonTypeInfo<JsonRpcError> ErrorType = (JsonTypeInfo<JsonRpcError>)ContractJson.Server.GetTypeInfo(typeof(JsonRpcError));

    public async Task HandlePostAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        byte[] body;
        try
        {
            body = await ReadBodyAsync(context.Request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && cancellationToken.IsCancellationRequested)
        {
            // The client went away mid-body: nobody is left to answer.
            return;
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException)
        {
            // Kestrel refuses broken framing (a chunk size that is not hex, or overflows) with either exception.
            await WriteAsync(context, w => WriteError(w, null, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", e.Message))).ConfigureAwait(false);
            return;
        }
        // RFC 8259: JSON text is UTF-8. JsonDocument defers decoding strings, so bytes that are not UTF-8 would
        // otherwise surface only when a member is read; refuse them here as the parse error they are.
        if (!Utf8.IsValid(body))
        {
            await WriteAsync(context, w => WriteError(w, null, new RpcException(RpcErrorCode.ParseError, "Parse error", "error unmarshaling request: the body is not UTF-8"))).ConfigureAwait(false);
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
                var requests = root.EnumerateArray().Select(ParseRequest).ToList();
                var answers = new (JsonElement? Id, RpcAnswer Answer)[count];
                var admitted = requests.All(r => r.Error is null) ? rpc.TryAdmitBroadcastBatch([.. requests.Select(r => r.Call!)]) : null;
                if (admitted is not null)
                {
                    for (var a = 0; a < count; a++)
                    {
                        answers[a] = (requests[a].Call!.Id, admitted[a]);
                    }
                    metrics.RpcRequests("broadcast_tx_sync", count);
                }
                else
                {
                    for (var i = 0; i < count; i++)
                    {
                        answers[i] = await DispatchAsync(requests[i], cancellationToken).ConfigureAwait(false);
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
            var single = await DispatchAsync(ParseRequest(root), cancellationToken).ConfigureAwait(false);
            await WriteAsync(context, w => WriteAnswer(w, single)).ConfigureAwait(false);
        }
    }

    public async Task HandleGetAsync(HttpContext context, string method)
    {
        var answer = await InvokeAsync(method, () => RpcParams.FromQuery(context.Request.Query), context.RequestAborted).ConfigureAwait(false);
        using var idDocument = JsonDocument.Parse("-1");
        await WriteAsync(context, w => WriteAnswer(w, (idDocument.RootElement, answer))).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks one request object as JSON-RPC 2.0 defines it: <c>jsonrpc</c> exactly "2.0", an id that is a string, a
    /// number or null, a method that is a string. A refused request is answered with the id when that id is valid.
    /// </summary>
    private static (RpcCall? Call, JsonElement? Id, RpcException? Error) ParseRequest(JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object)
        {
            return (null, null, Invalid("a request must be a JSON object"));
        }
        JsonElement? id = null;
        if (request.TryGetProperty("id", out var idElement))
        {
            if (idElement.ValueKind is not (JsonValueKind.Number or JsonValueKind.String or JsonValueKind.Null))
            {
                return (null, null, Invalid("id must be a string, a number or null"));
            }
            id = idElement.ValueKind == JsonValueKind.Null ? null : idElement;
        }
        if (!request.TryGetProperty("jsonrpc", out var version) || !TryGetText(version, out var versionText) || versionText != "2.0")
        {
            return (null, id, Invalid("jsonrpc must be \"2.0\""));
        }
        if (!request.TryGetProperty("method", out var methodElement) || !TryGetText(methodElement, out var method))
        {
            return (null, id, Invalid("method must be a string of Unicode text"));
        }
        JsonElement? parameters = request.TryGetProperty("params", out var p) ? p : null;
        return (new RpcCall(id, method, parameters), id, null);

        static RpcException Invalid(string detail) => new(RpcErrorCode.InvalidRequest, "Invalid request", detail);
    }

    /// <summary>A JSON string's text; false for other kinds and for strings that are not Unicode (an escaped lone surrogate).</summary>
    internal static bool TryGetText(JsonElement element, out string text)
    {
        text = "";
        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }
        try
        {
            text = element.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private async Task<(JsonElement? Id, RpcAnswer Answer)> DispatchAsync((RpcCall? Call, JsonElement? Id, RpcException? Error) request, CancellationToken cancellationToken)
    {
        if (request.Call is not { } call)
        {
            return (request.Id, RpcAnswer.Failed(request.Error!));
        }
        return (call.Id, await InvokeAsync(call.Method, () => RpcParams.FromJson(call.Params), cancellationToken).ConfigureAwait(false));
    }

    private async Task<RpcAnswer> InvokeAsync(string name, Func<RpcParams> parameters, CancellationToken cancellationToken)
    {
        if (!rpc.TryGetMethod(name, out var method))
        {
            metrics.RpcRequest("unknown", ok: false);
            return RpcAnswer.Failed(new RpcException(RpcErrorCode.MethodNotFound, "Method not found", $"unknown method '{Truncate(name)}'"));
        }
        var started = Stopwatch.GetTimestamp();
        // One span per call, so that a batch's calls and a broadcast's wait for its block show apart from the HTTP request's.
        using var activity = NodeTracing.Source.StartActivity($"rpc {name}");
        try
        {
            var answer = await method.InvokeAsync(parameters(), cancellationToken).ConfigureAwait(false);
            metrics.RpcRequest(name, ok: true);
            return answer;
        }
        catch (RpcException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Detail);
            metrics.RpcRequest(name, ok: false);
            logger.LogDebug("rpc {Method} refused: {Detail}", name, e.Detail);
            return RpcAnswer.Failed(e);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return RpcAnswer.Failed(RpcException.Internal("request cancelled"));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            metrics.RpcRequest(name, ok: false);
            logger.LogError(e, "rpc {Method} failed after {Elapsed} ms", name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return RpcAnswer.Failed(RpcException.Internal(e.Message));
        }
    }

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..(char.IsHighSurrogate(text[63]) ? 63 : 64)] + "…";

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new BadHttpRequestException($"request body exceeds {MaxBodyBytes} bytes");
        }
        // ArrayBufferWriter refuses a capacity of 0, which an empty body (Content-Length: 0) would ask for.
        // Grown as bytes arrive: a Content-Length alone (the body may never come) does not reserve megabytes.
        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, 64 * 1024));
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

    private static void WriteAnswer(Utf8JsonWriter writer, (JsonElement? Id, RpcAnswer Answer) answer)
    {
        if (answer.Answer.Error is { } error)
        {
            WriteError(writer, answer.Id, error);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        WriteId(writer, answer.Id);
        writer.WritePropertyName("result");
        answer.Answer.WriteResult(writer);
        writer.WriteEndObject();
    }

    private static void WriteError(Utf8JsonWriter writer, JsonElement? id, RpcException error)
    {
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        WriteId(writer, id);
        writer.WritePropertyName("error");
        JsonSerializer.Serialize(writer, new JsonRpcError(error.Code, error.Message, error.Detail ?? ""), ErrorType);
        writer.WriteEndObject();
    }

    private static void WriteId(Utf8JsonWriter writer, JsonElement? id)
    {
        writer.WritePropertyName("id");
        if (id is { } value)
        {
            // The id exactly as sent: re-encoding would fail on a string holding an escaped lone surrogate.
            writer.WriteRawValue(value.GetRawText(), skipInputValidation: true);
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
