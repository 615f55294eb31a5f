using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;
using Aitbc.Chain.Storage;
using Aitbc.Contracts;
using Aitbc.Contracts.Node;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Aitbc.Node.Rpc;

/// <summary>One well-formed JSON-RPC request: its id (null when absent or null), method and params as sent.</summary>
public sealed record RpcCall(JsonElement? Id, string Method, JsonElement? Params);

/// <summary>
/// JSON-RPC 2.0 over HTTP as CometBFT serves it: POST / with a request or a batch, and GET /&lt;method&gt;?args.
/// Every failure becomes a JSON-RPC error in a 200 answer; nothing a client sends can make it throw. What one request
/// may make the node build is bounded by <see cref="RpcLimits"/>: each call's answer is written as soon as it is
/// computed and stops at its byte limit, so a batch never holds more than its budget of answers in memory.
/// </summary>
public sealed class JsonRpcEndpoint(NodeRpc rpc, RpcLimits limits, NodeMetrics metrics, ILogger<JsonRpcEndpoint> logger)
{
    public const int MaxBodyBytes = 8 * 1024 * 1024;
    public const int MaxBatch = 1000;

    private static readonly JsonTypeInfo<JsonRpcError> ErrorType = (JsonTypeInfo<JsonRpcError>)ContractJson.Server.GetTypeInfo(typeof(JsonRpcError));
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

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
            await SendErrorAsync(context, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", e.Message)).ConfigureAwait(false);
            return;
        }
        // RFC 8259: JSON text is UTF-8. JsonDocument defers decoding strings, so bytes that are not UTF-8 would
        // otherwise surface only when a member is read; refuse them here as the parse error they are.
        if (!Utf8.IsValid(body))
        {
            await SendErrorAsync(context, new RpcException(RpcErrorCode.ParseError, "Parse error", "error unmarshaling request: the body is not UTF-8")).ConfigureAwait(false);
            return;
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            await SendErrorAsync(context, new RpcException(RpcErrorCode.ParseError, "Parse error", $"error unmarshaling request: {e.Message}")).ConfigureAwait(false);
            return;
        }
        using (document)
        {
            var root = document.RootElement;
            var buffer = new AnswerBuffer();
            if (root.ValueKind == JsonValueKind.Array)
            {
                var count = root.GetArrayLength();
                if (count is 0 or > MaxBatch)
                {
                    await SendErrorAsync(context, new RpcException(RpcErrorCode.InvalidRequest, "Invalid request", $"a batch holds 1 to {MaxBatch} requests")).ConfigureAwait(false);
                    return;
                }
                var requests = root.EnumerateArray().Select(ParseRequest).ToList();
                var admitted = requests.All(r => r.Error is null) ? rpc.TryAdmitBroadcastBatch([.. requests.Select(r => r.Call!)]) : null;
                buffer.WriteByte((byte)'[');
                if (admitted is not null)
                {
                    // Already admitted, and small: a broadcast's answer is a verdict of a few hundred bytes at most.
                    for (var a = 0; a < count; a++)
                    {
                        WriteSeparator(buffer, a);
                        TryWriteAnswer(buffer, requests[a].Call!.Id, admitted[a], long.MaxValue);
                    }
                    metrics.RpcRequests("broadcast_tx_sync", count);
                }
                else
                {
                    await WriteBatchAsync(buffer, requests, cancellationToken).ConfigureAwait(false);
                }
                buffer.WriteByte((byte)']');
                await SendAsync(context, buffer).ConfigureAwait(false);
                return;
            }
            var request = ParseRequest(root);
            var single = await DispatchAsync(request, new ScanBudget(limits.MaxSearchSteps), null, cancellationToken).ConfigureAwait(false);
            if (!TryWriteAnswer(buffer, request.Id, single, limits.MaxAnswerBytes))
            {
                WriteError(buffer, request.Id, AnswerTooLarge());
            }
            await SendAsync(context, buffer).ConfigureAwait(false);
        }
    }

    public async Task HandleGetAsync(HttpContext context, string method)
    {
        var scan = new ScanBudget(limits.MaxSearchSteps);
        var answer = await InvokeAsync(method, () => RpcParams.FromQuery(context.Request.Query), scan, null, context.RequestAborted).ConfigureAwait(false);
        using var idDocument = JsonDocument.Parse("-1");
        var buffer = new AnswerBuffer();
        if (!TryWriteAnswer(buffer, idDocument.RootElement, answer, limits.MaxAnswerBytes))
        {
            WriteError(buffer, idDocument.RootElement, AnswerTooLarge());
        }
        await SendAsync(context, buffer).ConfigureAwait(false);
    }

    /// <summary>
    /// Answers a batch's calls in order, each written as soon as it is answered. Once an answer would pass the batch's
    /// byte budget, that call and every later one are answered with the error naming it, without being run; the
    /// batch's searches share one <see cref="ScanBudget"/>, each call also held to its own.
    /// </summary>
    private async Task WriteBatchAsync(AnswerBuffer buffer, List<(RpcCall? Call, JsonElement? Id, RpcException? Error)> requests, CancellationToken cancellationToken)
    {
        var batchScan = new ScanBudget(limits.MaxBatchSearchSteps);
        var start = buffer.Written;
        RpcException? refused = null;
        for (var i = 0; i < requests.Count; i++)
        {
            WriteSeparator(buffer, i);
            var request = requests[i];
            if (refused is not null)
            {
                metrics.RpcRequest(request.Call is { } skipped && rpc.TryGetMethod(skipped.Method, out _) ? skipped.Method : "unknown", ok: false);
                WriteError(buffer, request.Id, refused);
                continue;
            }
            var answer = await DispatchAsync(request, new ScanBudget(limits.MaxSearchSteps, batchScan), batchScan, cancellationToken).ConfigureAwait(false);
            // The first call may use a call's whole limit: a batch always answers at least one call that fits it alone.
            var room = i == 0 ? limits.MaxAnswerBytes : Math.Min(limits.MaxAnswerBytes, limits.MaxBatchAnswerBytes - (buffer.Written - start));
            if (TryWriteAnswer(buffer, request.Id, answer, room))
            {
                continue;
            }
            if (room == limits.MaxAnswerBytes)
            {
                WriteError(buffer, request.Id, AnswerTooLarge());
                continue;
            }
            refused = RpcException.LimitExceeded(
                $"answer over the {Size(limits.MaxBatchAnswerBytes)} batch budget (node option {RpcLimits.BatchAnswerBytesOption}): this call and the rest of the batch were not answered; send them again in another request");
            WriteError(buffer, request.Id, refused);
        }
    }

    private RpcException AnswerTooLarge() =>
        RpcException.LimitExceeded($"answer over the {Size(limits.MaxAnswerBytes)} limit of one call (node option {RpcLimits.AnswerBytesOption})");

    private RpcException SearchOverBudget(ScanBudget? batchScan) => batchScan is { Exhausted: true }
        ? RpcException.LimitExceeded($"search over the batch budget of {limits.MaxBatchSearchSteps} steps (node option {RpcLimits.BatchSearchStepsOption}); send the rest of the batch's searches in another request")
        : RpcException.LimitExceeded($"search over the budget of {limits.MaxSearchSteps} steps of one call (node option {RpcLimits.SearchStepsOption}); narrow the query");

    private static string Size(long bytes) => bytes % (1024 * 1024) == 0
        ? $"{bytes / (1024 * 1024)} MiB"
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes}-byte");

    private static void WriteSeparator(AnswerBuffer buffer, int index)
    {
        if (index > 0)
        {
            buffer.WriteByte((byte)',');
        }
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

    private async Task<RpcAnswer> DispatchAsync((RpcCall? Call, JsonElement? Id, RpcException? Error) request, ScanBudget scan, ScanBudget? batchScan, CancellationToken cancellationToken)
    {
        if (request.Call is not { } call)
        {
            return RpcAnswer.Failed(request.Error!);
        }
        return await InvokeAsync(call.Method, () => RpcParams.FromJson(call.Params), scan, batchScan, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RpcAnswer> InvokeAsync(string name, Func<RpcParams> parameters, ScanBudget scan, ScanBudget? batchScan, CancellationToken cancellationToken)
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
            var answer = await method.InvokeAsync(parameters(), cancellationToken, scan).ConfigureAwait(false);
            metrics.RpcRequest(name, ok: true);
            return answer;
        }
        catch (ScanBudgetExceededException)
        {
            var error = SearchOverBudget(batchScan);
            activity?.SetStatus(ActivityStatusCode.Error, error.Detail);
            metrics.RpcRequest(name, ok: false);
            return RpcAnswer.Failed(error);
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

    /// <summary>
    /// Writes one answer unless it would pass <paramref name="limit"/> bytes; then it stops there, drops what it had
    /// written and returns false.
    /// </summary>
    private static bool TryWriteAnswer(AnswerBuffer buffer, JsonElement? id, RpcAnswer answer, long limit)
    {
        var mark = buffer.Written;
        buffer.Limit = mark + Math.Min(limit, long.MaxValue - mark);
        var writer = new Utf8JsonWriter(buffer, WriterOptions);
        var written = false;
        try
        {
            WriteAnswer(writer, id, answer);
            writer.Flush();
            written = true;
        }
        catch (AnswerBuffer.LimitPassedException)
        {
            // Dropped below, once the writer has given back what it still held.
        }
        finally
        {
            buffer.Limit = long.MaxValue;
            writer.Dispose();
            if (!written)
            {
                buffer.Truncate(mark);
            }
        }
        return written;
    }

    private static void WriteAnswer(Utf8JsonWriter writer, JsonElement? id, RpcAnswer answer)
    {
        if (answer.Error is { } error)
        {
            WriteError(writer, id, error);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("jsonrpc", "2.0");
        WriteId(writer, id);
        writer.WritePropertyName("result");
        answer.WriteResult(writer);
        writer.WriteEndObject();
    }

    /// <summary>Writes an error answer: a few hundred bytes at most, so never held to a limit.</summary>
    private static void WriteError(AnswerBuffer buffer, JsonElement? id, RpcException error)
    {
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        WriteError(writer, id, error);
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

    private static Task SendErrorAsync(HttpContext context, RpcException error)
    {
        var buffer = new AnswerBuffer();
        WriteError(buffer, null, error);
        return SendAsync(context, buffer);
    }

    private static async Task SendAsync(HttpContext context, AnswerBuffer buffer)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Written;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }
}
