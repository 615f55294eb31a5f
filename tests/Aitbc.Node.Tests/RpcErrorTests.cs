using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Node.Tests.Infrastructure;

namespace Aitbc.Node.Tests;

/// <summary>
/// What a client can get wrong: every mistake is a JSON-RPC error in an HTTP 200 answer (never a 500), and the
/// node keeps answering afterwards.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class RpcErrorTests(RpcNodeFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private RpcClient Rpc => fixture.Rpc;

    private static void AssertError(HttpStatusCode status, JsonElement answer, int code)
    {
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2.0", answer.GetProperty("jsonrpc").GetString());
        Assert.False(answer.TryGetProperty("result", out _), answer.ToString());
        var error = answer.GetProperty("error");
        Assert.True(code == error.GetProperty("code").GetInt32(), answer.ToString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.String, error.GetProperty("data").ValueKind);
    }

    private async Task AssertStillServingAsync()
    {
        var status = await Rpc.StatusAsync();
        Assert.StartsWith("0.38.", status.GetProperty("node_info").GetProperty("version").GetString());
        Assert.False(fixture.Node.HasExited, fixture.Node.OutputTail);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\"")]
    [InlineData("")]
    [InlineData("\u00ff\u00fe garbage")]
    public async Task Malformed_json_is_a_parse_error(string body)
    {
        var (status, answer) = await Rpc.PostAsync(body);
        AssertError(status, answer, -32700);
        Assert.Equal(JsonValueKind.Null, answer.GetProperty("id").ValueKind);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Too_deeply_nested_json_is_a_parse_error()
    {
        var body = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"status\",\"params\":" + new string('[', 5000) + new string(']', 5000) + "}";
        var (status, answer) = await Rpc.PostAsync(body);
        AssertError(status, answer, -32700);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Unknown_method_is_method_not_found_by_post_and_get()
    {
        var (status, answer) = await Rpc.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"no_such_method\",\"params\":{}}");
        AssertError(status, answer, -32601);
        Assert.Equal(7, answer.GetProperty("id").GetInt32());
        Assert.Contains("no_such_method", answer.GetProperty("error").GetProperty("data").GetString());

        var (getStatus, getAnswer) = await Rpc.GetAsync("no_such_method");
        AssertError(getStatus, getAnswer, -32601);
        var (longStatus, longAnswer) = await Rpc.GetAsync(new string('x', 2000));
        AssertError(longStatus, longAnswer, -32601);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("block", "{\"height\":\"abc\"}")]
    [InlineData("block", "{\"height\":true}")]
    [InlineData("block_results", "{\"height\":\"1.5\"}")]
    [InlineData("validators", "{\"height\":{}}")]
    [InlineData("blockchain", "{\"minHeight\":\"x\"}")]
    [InlineData("broadcast_tx_sync", "{\"tx\":\"!!! not base64 !!!\"}")]
    [InlineData("broadcast_tx_commit", "{\"tx\":42}")]
    [InlineData("broadcast_tx_async", "{}")]
    [InlineData("check_tx", "{\"tx\":\"\"}")]
    [InlineData("tx", "{\"hash\":\"abc\"}")]
    [InlineData("tx", "{\"hash\":12}")]
    [InlineData("tx", "{}")]
    [InlineData("tx_search", "{\"query\":\"\"}")]
    [InlineData("tx_search", "{\"query\":\"tx.height='x'\"}")]
    [InlineData("tx_search", "{\"query\":\"transfer.sender > 'a'\"}")]
    [InlineData("abci_query", "{}")]
    [InlineData("status", "\"params as a string\"")]
    [InlineData("block", "[1, 2]")]
    [InlineData("health", "17")]
    public async Task Bad_params_are_invalid_params(string method, string parameters)
    {
        var (status, answer) = await Rpc.PostAsync($"{{\"jsonrpc\":\"2.0\",\"id\":\"req-1\",\"method\":\"{method}\",\"params\":{parameters}}}");
        AssertError(status, answer, -32602);
        Assert.Equal("req-1", answer.GetProperty("id").GetString());
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("block", "height", "abc")]
    [InlineData("header", "height", "\"12x\"")]
    [InlineData("broadcast_tx_sync", "tx", "0xZZZZ")]
    [InlineData("broadcast_tx_sync", "tx", "@@@")]
    [InlineData("check_tx", "tx", "0x")]
    [InlineData("tx", "hash", "0x1234")]
    public async Task Bad_get_arguments_are_invalid_params(string method, string name, string value)
    {
        var (status, answer) = await Rpc.GetAsync(method, (name, value));
        AssertError(status, answer, -32602);
        await AssertStillServingAsync();
    }

    [Theory]
    [InlineData("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"status\"}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}")]
    [InlineData("{\"jsonrpc\":\"2.0\",\"id\":1}")]
    [InlineData("42")]
    [InlineData("\"status\"")]
    [InlineData("[]")]
    public async Task Invalid_requests_are_invalid_request(string body)
    {
        var (status, answer) = await Rpc.PostAsync(body);
        AssertError(status, answer, -32600);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Heights_out_of_range_are_readable_errors()
    {
        var tip = await Rpc.HeightAsync();
        foreach (var (method, height) in new[] { ("block", tip + 1000), ("block", 0L), ("block_results", -1L), ("commit", tip + 1), ("header", long.MaxValue), ("validators", tip + 5) })
        {
            var error = await Assert.ThrowsAsync<RpcCallException>(() =>
                Rpc.CallAsync(method, new JsonObject { ["height"] = height.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            Assert.Equal(-32603, error.Code);
            Assert.Contains("height", error.Detail);
        }
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Batch_answers_each_request_in_order_with_its_id()
    {
        var batch = new JsonArray
        {
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "status", ["params"] = new JsonObject() },
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = "two", ["method"] = "block", ["params"] = new JsonObject { ["height"] = "1" } },
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 3, ["method"] = "no_such_method" },
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 4, ["method"] = "block", ["params"] = new JsonObject { ["height"] = "abc" } },
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 5, ["method"] = "tx", ["params"] = new JsonObject { ["hash"] = fixture.SeedTx.Hash } },
            new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 6, ["method"] = "abci_query", ["params"] = new JsonObject { ["path"] = "/supply" } },
            JsonValue.Create(17),
        };
        var (status, answer) = await Rpc.PostAsync(batch.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, status);
        var answers = answer.EnumerateArray().ToList();
        Assert.Equal(7, answers.Count);
        Assert.Equal(1, answers[0].GetProperty("id").GetInt32());
        Assert.StartsWith("0.38.", answers[0].GetProperty("result").GetProperty("node_info").GetProperty("version").GetString());
        Assert.Equal("two", answers[1].GetProperty("id").GetString());
        Assert.Equal("1", answers[1].GetProperty("result").GetProperty("block").GetProperty("header").GetProperty("height").GetString());
        AssertError(HttpStatusCode.OK, answers[2], -32601);
        Assert.Equal(3, answers[2].GetProperty("id").GetInt32());
        AssertError(HttpStatusCode.OK, answers[3], -32602);
        Assert.Equal(4, answers[3].GetProperty("id").GetInt32());
        Assert.Equal(fixture.SeedTx.Hash, answers[4].GetProperty("result").GetProperty("hash").GetString());
        Assert.Equal(0, answers[5].GetProperty("result").GetProperty("response").GetProperty("code").GetInt32());
        AssertError(HttpStatusCode.OK, answers[6], -32600);

        // More requests than a batch may hold.
        var tooMany = new JsonArray([.. Enumerable.Range(0, 1001).Select(i => (JsonNode)new JsonObject { ["jsonrpc"] = "2.0", ["id"] = i, ["method"] = "health" })]);
        var (bigStatus, bigAnswer) = await Rpc.PostAsync(tooMany.ToJsonString());
        AssertError(bigStatus, bigAnswer, -32600);
        await AssertStillServingAsync();
    }

    [Fact]
    public async Task Huge_bodies_are_refused_with_an_error_not_a_crash()
    {
        // Over the 8 MiB limit, announced by Content-Length: the node answers from the headers alone. A raw socket
        // sends the headers and the start of the body, then reads the answer (an HTTP client would insist on
        // sending the whole body first and see the connection closed under it).
        var huge = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\"" + new string('A', 9 * 1024 * 1024) + "\"}}";
        var (rawStatus, rawAnswer) = await PostHeadersOnlyAsync(Encoding.UTF8.GetByteCount(huge), huge[..1000]);
        AssertError(rawStatus, rawAnswer, -32600);
        Assert.Contains("exceeds", rawAnswer.GetProperty("error").GetProperty("data").GetString());

        // The same without waiting: the node answers and closes the connection, maybe while the body is still on its way.
        var (status, answer) = await PostTolerantAsync(new StringContent(huge, Encoding.UTF8, "application/json"));
        if (status is { } code)
        {
            AssertError(code, answer, -32600);
        }

        // Over the limit without Content-Length (chunked): the node stops reading and answers with an error.
        var (chunkedStatus, chunkedAnswer) = await PostTolerantAsync(new ChunkedContent(Encoding.UTF8.GetBytes(huge)));
        if (chunkedStatus is { } chunkedCode)
        {
            AssertError(chunkedCode, chunkedAnswer, -32600);
        }

        // Under the limit but far too big for a transaction: a CheckTx refusal with a readable log.
        var bigTx = Convert.ToBase64String(new byte[64 * 1024]);
        var refused = await Rpc.CallAsync("broadcast_tx_sync", new JsonObject { ["tx"] = bigTx });
        Assert.Equal(1, refused.GetProperty("code").GetInt32());
        Assert.Contains("limit", refused.GetProperty("log").GetString());

        // A large but valid request is served.
        var (bigStatus, bigAnswer) = await Rpc.PostAsync("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\",\"params\":{\"padding\":\"" + new string('x', 4 * 1024 * 1024) + "\"}}");
        Assert.Equal(HttpStatusCode.OK, bigStatus);
        Assert.Equal(JsonValueKind.Object, bigAnswer.GetProperty("result").ValueKind);
        await AssertStillServingAsync();
    }

    /// <summary>
    /// Posts a body the server may refuse before reading it all: the server may then close the connection while the
    /// client is still sending, which the client sees as an I/O error. Either way the answer, when one arrives, is
    /// checked, and the node must not have crashed.
    /// </summary>
    private async Task<(HttpStatusCode? Status, JsonElement Answer)> PostTolerantAsync(HttpContent content)
    {
        try
        {
            using (content)
            {
                var (status, answer) = await Rpc.PostAsync(content);
                output.WriteLine($"answered HTTP {(int)status}: {answer}");
                return (status, answer);
            }
        }
        catch (HttpRequestException e) when (e.InnerException is IOException || e.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.SecureConnectionError)
        {
            output.WriteLine($"the node closed the connection while the body was sent: {e.Message}");
            await AssertStillServingAsync();
            return (null, default);
        }
    }

    /// <summary>Sends a POST's headers (with the given Content-Length) and only the first part of its body, and reads the answer.</summary>
    private async Task<(HttpStatusCode Status, JsonElement Answer)> PostHeadersOnlyAsync(long contentLength, string bodyStart)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Node.Port);
        var stream = tcp.GetStream();
        var head = $"POST / HTTP/1.1\r\nHost: 127.0.0.1:{fixture.Node.Port}\r\nContent-Type: application/json\r\nContent-Length: {contentLength}\r\n\r\n{bodyStart}";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var text = Encoding.UTF8.GetString(received.ToArray());
            var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (split >= 0)
            {
                var headers = text[..split];
                var length = headers.Split("\r\n").Select(h => h.Split(':', 2)).Where(h => h.Length == 2 && h[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    .Select(h => int.Parse(h[1].Trim(), System.Globalization.CultureInfo.InvariantCulture)).Single();
                var body = received.ToArray().AsSpan(Encoding.UTF8.GetByteCount(text[..(split + 4)]));
                if (body.Length >= length)
                {
                    var status = (HttpStatusCode)int.Parse(headers.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                    using var document = JsonDocument.Parse(body[..length].ToArray());
                    return (status, document.RootElement.Clone());
                }
            }
            var read = await stream.ReadAsync(buffer, timeout.Token);
            Assert.True(read > 0, $"the node closed the connection without a complete answer: {text}");
            received.Write(buffer, 0, read);
        }
    }

    /// <summary>Content sent with chunked transfer encoding (no Content-Length).</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var offset = 0; offset < bytes.Length; offset += 64 * 1024)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(64 * 1024, bytes.Length - offset)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task After_every_kind_of_mistake_the_node_still_answers_and_never_500s()
    {
        string[] bodies =
        [
            "{oops", "null", "[null]", "{\"method\":null}", "{\"jsonrpc\":\"2.0\",\"method\":\"block\",\"params\":{\"height\":\"-5\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"tx\",\"params\":{\"hash\":\"" + new string('Z', 64) + "\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"abci_query\",\"params\":{\"path\":\"/account/" + new string('a', 5000) + "\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"tx_search\",\"params\":{\"query\":\"" + string.Concat(Enumerable.Repeat("a='b' AND ", 500)) + "c='d'\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"blockchain\",\"params\":{\"minHeight\":\"9223372036854775807\",\"maxHeight\":\"-9223372036854775808\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"unconfirmed_txs\",\"params\":{\"limit\":\"-1\"}}",
            "{\"jsonrpc\":\"2.0\",\"method\":\"tx_search\",\"params\":{\"query\":\"tx.height>0\",\"page\":\"9223372036854775807\",\"per_page\":\"100\"}}",
        ];
        foreach (var body in bodies)
        {
            var (status, answer) = await Rpc.PostAsync(body);
            Assert.True(status == HttpStatusCode.OK, $"{body[..Math.Min(80, body.Length)]} → HTTP {(int)status}");
            Assert.True(answer.ValueKind is JsonValueKind.Object or JsonValueKind.Array, body);
        }
        using var wrongType = new StringContent("height=1", Encoding.UTF8, "application/x-www-form-urlencoded");
        var (formStatus, formAnswer) = await Rpc.PostAsync(wrongType);
        AssertError(formStatus, formAnswer, -32700);
        await AssertStillServingAsync();
        Assert.Equal(HttpStatusCode.OK, (await Rpc.Http.GetAsync("healthz")).StatusCode);
    }
}
