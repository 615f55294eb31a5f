using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Aitbc.Node.Tests.Hostile;

/// <summary>
/// The HTTP layer under attack: bodies past the 8 MiB limit announced by Content-Length or streamed chunked without
/// end (refused without reading them whole), broken chunking, bodies cut short, odd content types and encodings,
/// other verbs and paths, GET calls of every method with hostile arguments.
/// </summary>
[Collection(RpcNodeCollection.Name)]
public sealed class TransportHostileTests(RpcNodeFixture fixture, ITestOutputHelper output)
{
    private const int Limit = Aitbc.Node.Rpc.JsonRpcEndpoint.MaxBodyBytes;

    [Fact]
    public async Task Bodies_past_the_limit_are_refused_before_they_are_read()
    {
        var probe = await HostileProbe.StartAsync(fixture, "transport/limits", output);
        var start = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"broadcast_tx_sync\",\"params\":{\"tx\":\""u8.ToArray();

        // Content-Length past the limit: answered from the headers, while the body has not (and never will have) arrived.
        foreach (var length in new long[] { Limit + 1L, 9L * 1024 * 1024, int.MaxValue, long.MaxValue })
        {
            await probe.CaseAsync($"Content-Length {length}, body never sent", async () =>
            {
                var (status, body) = await RawAsync($"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n", start, endless: false);
                return TooLarge(status, body);
            });
        }

        // Chunked, no Content-Length, a stream that never ends: the node must answer once past the limit.
        await probe.CaseAsync("chunked body without end", async () =>
        {
            var (status, body) = await RawAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n", start, endless: true);
            return TooLarge(status, body);
        });

        // Right at the limit: still served.
        var padded = Encoding.UTF8.GetBytes("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}");
        var atLimit = new byte[Limit];
        Array.Fill(atLimit, (byte)' ');
        padded.CopyTo(atLimit, 0);
        await probe.ExpectResultAsync("a body of exactly the limit", atLimit, "1");
        probe.AssertAll();

        static string? TooLarge(HttpStatusCode status, string body)
        {
            if (HostileProbe.CheckStatus(status, body) is { } problem)
            {
                return problem;
            }
            using var document = JsonDocument.Parse(body);
            return HostileProbe.CheckError(document.RootElement, -32600, "null", body)
                ?? (body.Contains(Limit.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) ? null : $"error does not name the limit: {body}");
        }
    }

    [Fact]
    public async Task Broken_framing_cut_bodies_and_odd_headers()
    {
        var probe = await HostileProbe.StartAsync(fixture, "transport/framing", output);
        const string request = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"health\"}";

        // Chunk sizes that are not hex, negative, or overflow 64 bits: Kestrel refuses the framing, the node answers an error.
        foreach (var chunk in new[] { "zz\r\n{}\r\n0\r\n\r\n", "-1\r\n{}\r\n0\r\n\r\n", "FFFFFFFFFFFFFFFFF\r\n{}\r\n0\r\n\r\n", "2\r\n{}XX0\r\n\r\n" })
        {
            await probe.CaseAsync($"chunked framing {JsonSerializer.Serialize(chunk)}", async () =>
            {
                var (status, body) = await RawAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", Encoding.ASCII.GetBytes(chunk), endless: false);
                return FramingRefused(status, body);
            });
        }
        // A body cut short: the client goes away; the node must shrug.
        await probe.CaseAsync("body cut short, then the connection closed", async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, fixture.Node.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{request[..20]}"));
            await stream.FlushAsync();
            tcp.Client.Shutdown(SocketShutdown.Both);
            return null;
        });
        await probe.CaseAsync("chunked body cut short", async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(IPAddress.Loopback, fixture.Node.Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n{\"jsonrpc\""));
            tcp.Client.Shutdown(SocketShutdown.Both);
            return null;
        });

        // Content types and encodings are not negotiated: the body is read as UTF-8 JSON whatever the headers say.
        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "multipart/form-data; boundary=x", "application/octet-stream" })
        {
            await probe.CaseAsync($"Content-Type {type}", async () =>
            {
                var (status, answer, text) = await probe.PostRawAsync(Encoding.UTF8.GetBytes(request), type);
                return HostileProbe.CheckStatus(status, text) ?? HostileProbe.CheckResult(answer, "1", text);
            });
        }
        await probe.CaseAsync("UTF-16 body", async () =>
        {
            var (status, answer, text) = await probe.PostRawAsync(Encoding.Unicode.GetBytes(request), "application/json; charset=utf-16");
            return HostileProbe.CheckStatus(status, text) ?? HostileProbe.CheckError(answer, -32700, "null", text);
        });
        await probe.CaseAsync("gzip body (Content-Encoding is not decoded)", async () =>
        {
            using var compressed = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(Encoding.UTF8.GetBytes(request));
            }
            using var content = new ByteArrayContent(compressed.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            content.Headers.ContentEncoding.Add("gzip");
            using var response = await probe.Rpc.Http.PostAsync("", content);
            var text = await response.Content.ReadAsStringAsync();
            using var document = JsonDocument.Parse(text);
            return HostileProbe.CheckStatus(response.StatusCode, text) ?? HostileProbe.CheckError(document.RootElement, -32700, "null", text);
        });

        // Other verbs and paths are not JSON-RPC: a 4xx from the web host, never a 5xx.
        foreach (var (verb, path) in new[] { ("PUT", ""), ("DELETE", ""), ("PATCH", ""), ("POST", "status"), ("POST", "broadcast_tx_sync"), ("POST", "a/b/c"), ("PUT", "status"), ("GET", "a/b") })
        {
            await probe.CaseAsync($"{verb} /{path}", async () =>
            {
                using var message = new HttpRequestMessage(new HttpMethod(verb), path) { Content = new StringContent(request, Encoding.UTF8, "application/json") };
                using var response = await probe.Rpc.Http.SendAsync(message);
                return (int)response.StatusCode is >= 400 and < 500 ? null : $"HTTP {(int)response.StatusCode}";
            });
        }
        // A request line past Kestrel's 8 KiB limit: refused by the web host with 414, before any JSON-RPC.
        await probe.CaseAsync("GET with a 20 KiB query", async () =>
        {
            using var response = await probe.Rpc.Http.GetAsync("status?x=" + new string('x', 20 * 1024));
            return response.StatusCode == HttpStatusCode.RequestUriTooLong ? null : $"HTTP {(int)response.StatusCode}";
        });
        probe.AssertAll();

        static string? FramingRefused(HttpStatusCode status, string body)
        {
            if (status == HttpStatusCode.BadRequest && body.Length == 0)
            {
                return null;
            }
            if (HostileProbe.CheckStatus(status, body) is { } problem)
            {
                return problem;
            }
            using var document = JsonDocument.Parse(body);
            return HostileProbe.CheckError(document.RootElement, -32600, "null", body);
        }
    }

    [Fact]
    public async Task Get_calls_of_every_method_with_hostile_arguments()
    {
        var probe = await HostileProbe.StartAsync(fixture, "transport/get", output);
        var methods = await probe.Rpc.Http.GetStringAsync("");
        var names = JsonDocument.Parse(methods).RootElement.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!).ToList();
        Assert.Equal(20, names.Count);
        string[] hostile =
        [
            "height=%ED%A0%80", "height=-9223372036854775809", "hash=%00", "tx=%FF", "path=%22%2Fjob%2F%00%22", "query=%22%27%20OR%201%3D1%22",
            "limit=1e400", "minHeight=x&maxHeight=y", "page=0", "per_page=abc", "order_by=%22sideways%22", "prove=maybe", "tx=0x", "tx=%22%22",
        ];
        foreach (var method in names)
        {
            foreach (var query in hostile)
            {
                await probe.CaseAsync($"GET {method}?{query}", async () =>
                {
                    var (status, answer, text) = await probe.GetRawAsync($"{method}?{query}");
                    if ((HostileProbe.CheckStatus(status, text) ?? HostileProbe.CheckShape(answer, "-1", text)) is { } problem)
                    {
                        return problem;
                    }
                    if (answer.TryGetProperty("error", out var error))
                    {
                        return error.GetProperty("code").GetInt32() is -32602 or -32603 ? null : $"unexpected error {error}";
                    }
                    // A broadcast of garbage is a CheckTx refusal; everything else may answer.
                    return method.StartsWith("broadcast", StringComparison.Ordinal) || method == "check_tx"
                        ? $"garbage tx accepted: {HostileProbe.Clip(text)}"
                        : null;
                });
            }
        }
        // A NUL in the path is refused by Kestrel itself (400, no body), before routing.
        await probe.CaseAsync("GET /%00", async () =>
        {
            using var response = await probe.Rpc.Http.GetAsync("%00");
            return response.StatusCode == HttpStatusCode.BadRequest ? null : $"HTTP {(int)response.StatusCode}";
        });
        foreach (var path in new[] { "%ED%A0%80", "%C0%80", "%FF", "%E2%80%AEsutats", "%EF%BB%BFstatus", "status%09", "%25", "st%61tus%3F", "%F0%9F%98%80", "Status", "STATUS", "status%20", "..%2Fstatus", new string('m', 6000), "unsafe_flush_mempool", "subscribe" })
        {
            await probe.ExpectGetErrorAsync($"GET /{HostileProbe.Clip(path)}", path, -32601);
        }
        probe.AssertAll();
    }

    /// <summary>
    /// Sends a raw HTTP request: the head, then <paramref name="body"/> (for <paramref name="endless"/>, as chunks of
    /// 64 KiB that never end, up to 64 MiB, then silence), reading the answer all the while; returns status and body.
    /// </summary>
    private async Task<(HttpStatusCode Status, string Body)> RawAsync(string head, byte[] body, bool endless)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, fixture.Node.Port);
        var stream = tcp.GetStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reading = ReadResponseAsync(stream, timeout.Token);
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
            if (!endless)
            {
                await stream.WriteAsync(body, timeout.Token);
            }
            else
            {
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'A');
                var frame = Encoding.ASCII.GetBytes($"{body.Length:x}\r\n").Concat(body).Concat("\r\n"u8.ToArray())
                    .Concat(Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n")).Concat(chunk).Concat("\r\n"u8.ToArray()).ToArray();
                await stream.WriteAsync(frame, timeout.Token);
                var tail = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n").Concat(chunk).Concat("\r\n"u8.ToArray()).ToArray();
                for (var sent = 0L; sent < 64L * 1024 * 1024 && !reading.IsCompleted; sent += chunk.Length)
                {
                    await stream.WriteAsync(tail, timeout.Token);
                }
            }
        }
        catch (IOException)
        {
            // The node answered and closed while the rest was on its way: the answer is what counts.
        }
        return await reading;
    }

    private static async Task<(HttpStatusCode, string)> ReadResponseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var bytes = received.ToArray();
            var split = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
            if (split >= 0)
            {
                var headers = Encoding.ASCII.GetString(bytes, 0, split);
                var status = (HttpStatusCode)int.Parse(headers.Split(' ')[1], CultureInfo.InvariantCulture);
                var lengthHeader = headers.Split("\r\n").Select(h => h.Split(':', 2)).FirstOrDefault(h => h.Length == 2 && h[0].Trim().Equals("Content-Length", StringComparison.OrdinalIgnoreCase));
                var length = lengthHeader is null ? 0 : int.Parse(lengthHeader[1].Trim(), CultureInfo.InvariantCulture);
                if (bytes.Length - split - 4 >= length)
                {
                    return (status, Encoding.UTF8.GetString(bytes, split + 4, length));
                }
            }
            int read;
            try
            {
                read = await stream.ReadAsync(buffer, cancellationToken);
            }
            catch (IOException e)
            {
                throw new IOException($"connection lost before a complete answer ({received.Length} bytes: {Encoding.UTF8.GetString(received.ToArray())})", e);
            }
            if (read == 0)
            {
                throw new IOException($"connection closed before a complete answer: {Encoding.UTF8.GetString(received.ToArray())}");
            }
            received.Write(buffer, 0, read);
        }
    }
}
