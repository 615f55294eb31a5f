using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Aitbc.Testing.Hostile;

/// <summary>An HTTP answer as read off the wire: status, headers (names lower-cased) and the de-chunked body.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string? ContentType => Headers.TryGetValue("content-type", out var value) ? value : null;

    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// HTTP/1.1 over a plain socket, one connection per request, so that tests can send what HttpClient refuses to: any
/// bytes in the target, headers and body, bodies without Content-Length, Content-Length that lies.
/// </summary>
public static class RawHttp
{
    /// <summary>Sends <paramref name="head"/> (request line and headers, without the blank line) and <paramref name="body"/>, and reads the answer until the server closes.</summary>
    public static async Task<RawResponse> SendAsync(Uri server, byte[] head, byte[] body, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = client.GetStream();
        var reading = ReadToEndAsync(stream, null, cancellationToken);
        try
        {
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            // No half-close after the body: Kestrel takes a FIN as the client going away and aborts the request.
            await stream.WriteAsync(body, cancellationToken);
        }
        catch (IOException)
        {
            // The server may answer (413, 400) and close before the whole body is written; its answer is what counts.
        }
        catch (SocketException)
        {
        }
        return Parse(await reading);
    }

    /// <summary>
    /// Sends <paramref name="head"/> and <paramref name="first"/>, then waits until an answer starts or
    /// <paramref name="pause"/> passes before sending <paramref name="rest"/>: the server sees a body whose first part
    /// arrived well before the rest, as a slow client's would; returns the answer.
    /// </summary>
    public static async Task<RawResponse> SendInTwoPartsAsync(Uri server, byte[] head, byte[] first, byte[] rest, TimeSpan pause, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = client.GetStream();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = ReadToEndAsync(stream, answered, cancellationToken);
        try
        {
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            await stream.WriteAsync(first, cancellationToken);
            await Task.WhenAny(answered.Task, Task.Delay(pause, cancellationToken));
            await stream.WriteAsync(rest, cancellationToken);
        }
        catch (IOException)
        {
            // As in SendAsync: an early answer and close leave the rest unwritten; the answer is what counts.
        }
        catch (SocketException)
        {
        }
        return Parse(await reading);
    }

    /// <summary>
    /// Sends <paramref name="head"/>, then body bytes in 16 KiB writes until the first byte of an answer arrives or
    /// <paramref name="maxBytes"/> were sent; returns the answer (null when none came) and how many body bytes had been sent by then.
    /// </summary>
    public static async Task<(RawResponse? Response, long BytesSent)> StreamUntilAnsweredAsync(Uri server, byte[] head, bool chunked, long maxBytes, CancellationToken cancellationToken = default)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.Host, server.Port, cancellationToken);
        var stream = client.GetStream();
        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reading = ReadToEndAsync(stream, answered, cancellationToken);
        var piece = new byte[16 * 1024];
        Array.Fill(piece, (byte)'a');
        var chunkHeader = Encoding.ASCII.GetBytes(piece.Length.ToString("x", CultureInfo.InvariantCulture) + "\r\n");
        long sent = 0;
        try
        {
            await stream.WriteAsync(head, cancellationToken);
            await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            // An opening quote: the body is one ever-growing JSON string, so a reader buffers it all unless a limit stops it.
            await stream.WriteAsync(chunked ? "1\r\n\"\r\n"u8.ToArray() : "\""u8.ToArray(), cancellationToken);
            while (sent < maxBytes && !answered.Task.IsCompleted)
            {
                if (chunked)
                {
                    await stream.WriteAsync(chunkHeader, cancellationToken);
                }
                await stream.WriteAsync(piece, cancellationToken);
                if (chunked)
                {
                    await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
                }
                sent += piece.Length;
            }
        }
        catch (IOException)
        {
        }
        catch (SocketException)
        {
        }
        try
        {
            // The answer may still be on its way when a write fails because the server closed its side.
            return (Parse(await reading.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken)), sent);
        }
        catch (Exception e) when (e is TimeoutException or IOException or SocketException or InvalidDataException)
        {
            // No answer: the server is buffering it all, or dropped the connection without one.
            return (null, sent);
        }
    }

    /// <summary>The request head: request line, Host, Connection: close and the given headers (each "Name: value").</summary>
    public static byte[] Head(Uri server, string method, string target, IEnumerable<string> headers)
    {
        var text = new StringBuilder();
        text.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        text.Append("Host: ").Append(server.Authority).Append("\r\n");
        text.Append("Connection: close\r\n");
        foreach (var header in headers)
        {
            text.Append(header).Append("\r\n");
        }
        // Latin-1 keeps every char below 256 as one byte: tests put raw bytes in targets and header values this way.
        return Encoding.Latin1.GetBytes(text.ToString());
    }

    private static async Task<byte[]> ReadToEndAsync(NetworkStream stream, TaskCompletionSource? answered, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var piece = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(piece, cancellationToken)) > 0)
            {
                buffer.Write(piece, 0, read);
                answered?.TrySetResult();
            }
        }
        catch (IOException) when (buffer.Length > 0)
        {
            // A reset after the answer (the server closed with our body unread) still leaves the answer.
        }
        return buffer.ToArray();
    }

    private static RawResponse Parse(byte[] raw)
    {
        var end = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            throw new InvalidDataException($"no HTTP answer ({raw.Length} bytes: {Encoding.Latin1.GetString(raw[..Math.Min(raw.Length, 200)])})");
        }
        var lines = Encoding.Latin1.GetString(raw, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }
        var body = raw[(end + 4)..];
        if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = Dechunk(body);
        }
        return new RawResponse(status, headers, body);
    }

    private static byte[] Dechunk(byte[] body)
    {
        using var result = new MemoryStream();
        var at = 0;
        while (at < body.Length)
        {
            var lineEnd = body.AsSpan(at).IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                break;
            }
            var size = int.Parse(Encoding.ASCII.GetString(body, at, lineEnd).Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            at += lineEnd + 2;
            if (size == 0)
            {
                break;
            }
            result.Write(body, at, Math.Min(size, body.Length - at));
            at += size + 2;
        }
        return result.ToArray();
    }
}
