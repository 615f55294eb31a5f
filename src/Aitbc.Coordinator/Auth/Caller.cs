using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Storage;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Coordinator.Auth;

/// <summary>Who made a request: the key's id and role, and the wallet address or miner key it is bound to.</summary>
public sealed record Caller(string KeyId, string Role, string? Address, string? MinerPubKey)
{
    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>The authenticated caller of <paramref name="context"/>; only endpoints behind <see cref="ApiKeyFilter"/> have one.</summary>
    public static Caller Of(HttpContext context) =>
        context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException("endpoint has no ApiKeyFilter");
}

/// <summary>
/// Authenticates <c>X-Api-Key</c> (or <c>X-Miner-Key</c>) and admits only the given roles: 401 without a valid key,
/// 403 for a key of another role.
/// </summary>
public sealed class ApiKeyFilter(params string[] roles) : IEndpointFilter
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string MinerKeyHeader = "X-Miner-Key";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = http.Request.Headers[MinerKeyHeader].FirstOrDefault() ?? http.Request.Headers[ApiKeyHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(presented))
        {
            return Problems.Unauthorized($"send an API key in {ApiKeyHeader} (clients, admins) or {MinerKeyHeader} (miners)");
        }
        var store = http.RequestServices.GetRequiredService<ICoordinatorStore>();
        var record = presented.Length <= 256 ? await store.GetApiKeyAsync(ApiKeys.IdOf(presented), http.RequestAborted).ConfigureAwait(false) : null;
        if (record is null || !ApiKeys.Matches(presented, record.KeyHash))
        {
            return Problems.Unauthorized("the API key is not valid");
        }
        if (!roles.Contains(record.Role))
        {
            return Problems.Forbidden($"a {record.Role} key cannot do this; it needs a {string.Join(" or ", roles)} key");
        }
        var caller = new Caller(record.Id, record.Role, record.Address, record.MinerPubKey);
        http.Items[typeof(Caller)] = caller;
        // The request log line names the key id (never the key itself).
        http.RequestServices.GetService<Serilog.IDiagnosticContext>()?.Set("KeyId", caller.KeyId);
        return await next(context).ConfigureAwait(false);
    }
}
