using System.Text;
using System.Text.Json;

namespace Aitbc.Testing.Hostile;

/// <summary>
/// One hostile request and the answers that are right for it. By default a refused request: one of
/// <see cref="Expected"/> (all 4xx), an RFC 9457 problem body, and no state change.
/// </summary>
public sealed record HostileCase(string Name, string Method, string Target)
{
    /// <summary>Headers as "Name: value" lines; the value may carry any Latin-1 byte.</summary>
    public IReadOnlyList<string> Headers { get; init; } = [];

    public byte[] Body { get; init; } = [];

    /// <summary>The Content-Type header; null sends none.</summary>
    public string? ContentType { get; init; } = "application/json";

    /// <summary>Whether to frame the body with Content-Length (the default) or leave that to <see cref="Headers"/>.</summary>
    public bool ContentLength { get; init; } = true;

    public IReadOnlyList<int> Expected { get; init; } = [400];

    /// <summary>Refused by Kestrel's HTTP parser before any middleware runs: the answer has no body to check.</summary>
    public bool ProtocolLevel { get; init; }

    /// <summary>A 2xx answer is acceptable and may change state (lenient but valid input, e.g. an emoji prompt).</summary>
    public bool MayChangeState { get; init; }

    public HostileCase WithJson(string json) => this with { Body = Encoding.UTF8.GetBytes(json) };

    public override string ToString() => $"{Name}: {Method} {Shorten(Target)}";

    public async Task<RawResponse> SendAsync(Uri server, CancellationToken cancellationToken = default)
    {
        var headers = new List<string>(Headers);
        if (ContentType is not null)
        {
            headers.Add("Content-Type: " + ContentType);
        }
        if (ContentLength && (Body.Length > 0 || Method is "POST" or "PUT" or "PATCH"))
        {
            headers.Add("Content-Length: " + Body.Length);
        }
        return await RawHttp.SendAsync(server, RawHttp.Head(server, Method, Target, headers), Body, cancellationToken);
    }

    /// <summary>What is wrong with <paramref name="response"/> as an answer to this case, or null when it is right.</summary>
    public string? Judge(RawResponse response)
    {
        if (response.Status >= 500)
        {
            return $"{response.Status} (server error): {Shorten(response.Text)}";
        }
        if (!Expected.Contains(response.Status) && !(MayChangeState && response.Status is >= 200 and < 300))
        {
            return $"{response.Status}, expected {string.Join(" or ", Expected)}: {Shorten(response.Text)}";
        }
        if (response.Status < 400 || ProtocolLevel)
        {
            return null;
        }
        return ProblemError(response);
    }

    /// <summary>Why <paramref name="response"/> is not an RFC 9457 problem body matching its status, or null.</summary>
    public static string? ProblemError(RawResponse response)
    {
        if (response.ContentType?.StartsWith("application/problem+json", StringComparison.OrdinalIgnoreCase) != true)
        {
            return $"{response.Status} with Content-Type '{response.ContentType}', not application/problem+json: {Shorten(response.Text)}";
        }
        try
        {
            using var problem = JsonDocument.Parse(response.Body);
            var root = problem.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.Number || status.GetInt32() != response.Status
                || !root.TryGetProperty("title", out var title) || title.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(title.GetString()))
            {
                return $"{response.Status}: problem body lacks a matching status or a title: {Shorten(response.Text)}";
            }
        }
        catch (JsonException e)
        {
            return $"{response.Status}: problem body is not JSON ({e.Message}): {Shorten(response.Text)}";
        }
        return null;
    }

    public static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + $"… ({text.Length} chars)";
}
