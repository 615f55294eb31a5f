using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aitbc.Contracts;
using Aitbc.Node.Rpc;

namespace Aitbc.Node.Follower;

/// <summary>A minimal JSON-RPC client of the validator: what a follower needs to sync and to forward broadcasts.</summary>
public sealed class ValidatorRpcClient(HttpClient http) : IBroadcastForwarder
{
    private long _nextId;

    public async Task<JsonElement> CallAsync(string method, JsonObject parameters, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["jsonrpc"] = "2.0", ["id"] = Interlocked.Increment(ref _nextId), ["method"] = method, ["params"] = parameters };
        using var response = await http.PostAsJsonAsync("", request, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        return Unwrap(document.RootElement).Clone();
    }

    /// <summary>
    /// Calls several methods in one JSON-RPC batch; answers come back in request order, each a result or the error it
    /// was answered with (a validator answers calls past its batch budget with errors).
    /// </summary>
    public async Task<IReadOnlyList<(JsonElement Result, RpcException? Error)>> BatchAsync(IReadOnlyList<(string Method, JsonObject Params)> calls, CancellationToken cancellationToken)
    {
        var batch = new JsonArray();
        for (var i = 0; i < calls.Count; i++)
        {
            batch.Add(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = i, ["method"] = calls[i].Method, ["params"] = calls[i].Params });
        }
        using var response = await http.PostAsJsonAsync("", batch, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
        var answers = new (JsonElement, RpcException?)[calls.Count];
        foreach (var answer in document.RootElement.EnumerateArray())
        {
            var id = answer.GetProperty("id").GetInt32();
            try
            {
                answers[id] = (Unwrap(answer).Clone(), null);
            }
            catch (RpcException e)
            {
                answers[id] = (default, e);
            }
        }
        return answers;
    }

    /// <summary>Calls <paramref name="method"/> and reads its result as the contract record <typeparamref name="T"/>.</summary>
    public async Task<T> CallAsync<T>(string method, JsonObject parameters, CancellationToken cancellationToken) =>
        Read<T>(await CallAsync(method, parameters, cancellationToken).ConfigureAwait(false));

    /// <summary>A result as the contract record <typeparamref name="T"/>; a missing or mistyped member is a <see cref="JsonException"/>.</summary>
    public static T Read<T>(JsonElement result) =>
        result.Deserialize<T>(ContractJson.Client) ?? throw new JsonException($"the validator answered null for a {typeof(T).Name}");

    public Task<T> ForwardAsync<T>(string method, byte[] tx, CancellationToken cancellationToken) =>
        CallAsync<T>(method, new JsonObject { ["tx"] = Convert.ToBase64String(tx) }, cancellationToken);

    private static JsonElement Unwrap(JsonElement answer)
    {
        if (answer.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            throw new RpcException(error.GetProperty("code").GetInt32(), error.GetProperty("message").GetString() ?? "error",
                error.TryGetProperty("data", out var data) ? data.GetString() : null);
        }
        return answer.GetProperty("result");
    }
}
