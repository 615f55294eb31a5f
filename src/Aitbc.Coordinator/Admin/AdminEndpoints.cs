using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Coordinator.Admin;

/// <summary><c>/v1/admin</c>: key management (miner and job oversight come with the scheduler).</summary>
public static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdminEndpoints(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin").WithTags("admin").RequireApiKey(Roles.Admin);
        admin.MapPost("/keys", CreateKeyAsync);
        admin.MapDelete("/keys/{id}", RevokeKeyAsync);
        return admin;
    }

    private static async Task<Results<Created<ApiKeyCreated>, ValidationProblem>> CreateKeyAsync(
        ApiKeyRequest? request, ICoordinatorStore store, ApiKeyCache keys, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        // The server's options leave explicit nulls to the endpoints, so that each names its field: role may be null here.
        if (request is null || !Roles.IsKnown(request.Role))
        {
            errors["role"] = ["role must be client, miner or admin"];
            return Problems.Validation(errors);
        }
        string? address = null;
        string? minerPubKey = null;
        if (request.Role == Roles.Client)
        {
            if (!Address.TryParse(request.Address, out var parsed))
            {
                errors["address"] = ["a client key needs the wallet address it pays from (aitbc1…)"];
            }
            address = parsed.Value;
        }
        else if (request.Address is not null)
        {
            errors["address"] = ["only client keys are bound to an address"];
        }
        if (request.Role == Roles.Miner)
        {
            if (!Ed25519PublicKey.TryParse(request.MinerPubKey, out var pub))
            {
                errors["miner_pub_key"] = ["a miner key needs the miner's Ed25519 public key in base64"];
            }
            else
            {
                minerPubKey = pub.Base64;
                address = pub.Address.Value;
            }
        }
        else if (request.MinerPubKey is not null)
        {
            errors["miner_pub_key"] = ["only miner keys are bound to a public key"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var (id, key) = ApiKeys.Generate();
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        await store.InsertApiKeyAsync(new ApiKeyRecord(id, request.Role, ApiKeys.Hash(key), address, minerPubKey, now), cancellationToken).ConfigureAwait(false);
        keys.Invalidate(id);
        return TypedResults.Created($"/v1/admin/keys/{id}", new ApiKeyCreated(id, key, request.Role, address, minerPubKey, Jobs.Timestamps.Format(now)));
    }

    /// <summary>
    /// Revokes a key: from the next request on it is 401 here, and within <see cref="CoordinatorOptions.ApiKeyCacheTtl"/> on
    /// other coordinators sharing the database. The bootstrap admin key is set by the operator at start, not here.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeKeyAsync(
        string id, ICoordinatorStore store, ApiKeyCache keys, CancellationToken cancellationToken)
    {
        if (id == ApiKeys.BootstrapAdminId)
        {
            return Problems.Conflict("the bootstrap admin key is replaced by starting the coordinator with another --admin-key");
        }
        var revoked = await store.RevokeApiKeyAsync(id, cancellationToken).ConfigureAwait(false);
        keys.Invalidate(id);
        return revoked ? TypedResults.NoContent() : Problems.NotFound("no such key");
    }
}
