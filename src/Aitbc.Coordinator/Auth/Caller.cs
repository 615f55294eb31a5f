using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Aitbc.Coordinator.Auth;

/// <summary>Who made a request: the key's id and role, and the wallet address or miner key it is bound to.</summary>
public sealed record Caller(string KeyId, string Role, string? Address, string? MinerPubKey)
{
    public bool IsAdmin => Role == Roles.Admin;

    /// <summary>The authenticated caller of <paramref name="context"/>; only endpoints marked with <see cref="ApiKeyAuth.RequireApiKey{TBuilder}"/> have one.</summary>
    public static Caller Of(HttpContext context) =>
        context.Items[typeof(Caller)] as Caller ?? throw new InvalidOperationException("endpoint does not require an API key");
}

/// <summary>The roles an endpoint admits: endpoint metadata that <see cref="ApiKeyAuth.UseApiKeys"/> enforces.</summary>
public sealed record ApiKeyRoles(IReadOnlyList<string> Roles);

/// <summary>
/// Authenticates <c>X-Api-Key</c> (or <c>X-Miner-Key</c>) for endpoints marked with <see cref="RequireApiKey{TBuilder}"/> and
/// admits only their roles: 401 without a valid key, 403 for a key of another role. A middleware rather than an endpoint
/// filter because minimal APIs bind (read and parse) the body before filters run: a caller without a valid key must
/// not get the body read or a body error back.
/// </summary>
public static class ApiKeyAuth
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string MinerKeyHeader = "X-Miner-Key";

    /// <summary>Admits only callers with a key of one of <paramref name="roles"/>.</summary>
    public static TBuilder RequireApiKey<TBuilder>(this TBuilder builder, params string[] roles)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(new ApiKeyRoles(roles));

    /// <summary>The middleware; after routing (it reads the endpoint's <see cref="ApiKeyRoles"/>), before the endpoint runs.</summary>
    public static IApplicationBuilder UseApiKeys(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        if (http.GetEndpoint()?.Metadata.GetMetadata<ApiKeyRoles>() is not { } required)
        {
            await next(http).ConfigureAwait(false);
            return;
        }
        if (await AuthenticateAsync(http, required.Roles).ConfigureAwait(false) is { } refusal)
        {
            await refusal.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }
        await next(http).ConfigureAwait(false);
    });

    private static async Task<IResult?> AuthenticateAsync(HttpContext http, IReadOnlyList<string> roles)
    {
        var presented = http.Request.Headers[MinerKeyHeader].FirstOrDefault() ?? http.Request.Headers[ApiKeyHeader].FirstOrDefault();
        if (string.IsNullOrEmpty(presented))
        {
            return Problems.Unauthorized($"send an API key in {ApiKeyHeader} (clients, admins) or {MinerKeyHeader} (miners)");
        }
        if (presented.Length > AuthenticatedKeys.MaxKeyLength)
        {
            return Problems.Unauthorized("the API key is not valid");
        }
        var keys = http.RequestServices.GetRequiredService<ApiKeyCache>();
        var authenticated = http.RequestServices.GetRequiredService<AuthenticatedKeys>();
        var fingerprint = AuthenticatedKeys.Fingerprint(presented);
        var record = await keys.GetAsync(ApiKeys.IdOf(presented), http.RequestAborted).ConfigureAwait(false);
        if (record is null || !ApiKeys.Matches(presented, record.KeyHash))
        {
            authenticated.Refused(fingerprint);
            return Problems.Unauthorized("the API key is not valid");
        }
        // From the next request on, this key is limited by its own bucket rather than its address's.
        authenticated.Authenticated(fingerprint);
        if (!roles.Contains(record.Role))
        {
            return Problems.Forbidden($"a {record.Role} key cannot do this; it needs a {string.Join(" or ", roles)} key");
        }
        var caller = new Caller(record.Id, record.Role, record.Address, record.MinerPubKey);
        http.Items[typeof(Caller)] = caller;
        // The request log line names the key id (never the key itself).
        http.RequestServices.GetService<Serilog.IDiagnosticContext>()?.Set("KeyId", caller.KeyId);
        return null;
    }
}
