using System.Text.Json;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Aitbc.Coordinator.Miners;

/// <summary><c>/v1/miners</c>: a miner registers where to push assignments and what it sells, then heartbeats.</summary>
public static class MinerEndpoints
{
    public const int MaxModels = 64;
    public const int MaxCapacity = 256;

    public static RouteGroupBuilder MapMinerEndpoints(this IEndpointRouteBuilder app)
    {
        var miners = app.MapGroup("/v1/miners").WithTags("miners");
        miners.MapPost("/register", RegisterAsync).RequireApiKey(Roles.Miner);
        miners.MapPost("/heartbeat", HeartbeatAsync).RequireApiKey(Roles.Miner);
        return miners;
    }

    /// <summary>The public key a miner's API key is bound to; null for a miner key bound to none.</summary>
    public static Ed25519PublicKey? KeyOf(Caller caller) =>
        caller.MinerPubKey is { } pub && Ed25519PublicKey.TryParse(pub, out var key) ? key : null;

    /// <summary>The miner's address: that of <see cref="KeyOf"/>; null for a miner key bound to none.</summary>
    public static string? AddressOf(Caller caller) => KeyOf(caller)?.Address.Value;

    /// <summary>Whether a miner online at <paramref name="now"/>: heard from within three heartbeat intervals.</summary>
    public static bool IsOnline(MinerRecord miner, long now, CoordinatorOptions options) =>
        now - miner.LastSeen <= 3 * (long)options.HeartbeatInterval.TotalMilliseconds;

    private static async Task<Results<Ok<MinerRegistered>, ValidationProblem, ProblemHttpResult>> RegisterAsync(
        HttpContext context, MinerRegistration? body, ICoordinatorStore store, AssignKeys assignKeys, SchedulerSignal scheduler, MinerEndpointPolicy endpoints,
        CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        if (AddressOf(caller) is not { } address)
        {
            return Problems.Forbidden("this miner key is bound to no miner public key; ask an admin for a key with one");
        }
        if (body is null)
        {
            return Problems.BadRequest("send the registration as a JSON body");
        }
        var errors = new Dictionary<string, string[]>();
        if (await endpoints.RefusalAsync(body.Endpoint, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            errors["endpoint"] = [refusal];
        }
        var models = ValidateModels(body.Models, errors);
        if (body.Capacity is < 1 or > MaxCapacity)
        {
            errors["capacity"] = [$"capacity must be 1 to {MaxCapacity} concurrent jobs"];
        }
        if (!Amount.TryParseAitbc(body.PricePerSecond, out var price) || price.IsZero || price > options.MaxPricePerSecond)
        {
            errors["price_per_second"] = [$"price_per_second must be a positive AITBC decimal string, at most {options.MaxPricePerSecond.ToAitbcString()}"];
        }
        if (body.Gpu is { } gpu && (string.IsNullOrWhiteSpace(gpu.Name) || gpu.Name.Length > 200 || gpu.MemoryTotalMb < 0 || gpu.Count < 0))
        {
            errors["gpu"] = ["gpu needs a name (at most 200 characters) and non-negative memory_total_mb and count"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        var existing = await store.GetMinerAsync(address, cancellationToken).ConfigureAwait(false);
        await store.UpsertMinerAsync(new MinerRecord(address, caller.MinerPubKey!, caller.KeyId, body.Endpoint!, models, body.Capacity, existing?.InFlight ?? 0, price.Micro,
            body.Gpu is null ? null : JsonSerializer.Serialize(body.Gpu, Client.Http.RestJson.Options), null, existing?.RegisteredAt ?? now, now, existing?.Reputation ?? 0.5,
            0, 0, 0), cancellationToken).ConfigureAwait(false);
        scheduler.Kick();
        return TypedResults.Ok(new MinerRegistered(address, "online", assignKeys.For(caller.MinerPubKey!), (int)Math.Ceiling(options.HeartbeatInterval.TotalSeconds)));
    }

    private static async Task<Results<Ok<HeartbeatAck>, ValidationProblem, ProblemHttpResult>> HeartbeatAsync(
        HttpContext context, MinerHeartbeat? body, ICoordinatorStore store, SchedulerSignal scheduler, CoordinatorOptions options, CancellationToken cancellationToken)
    {
        var caller = Caller.Of(context);
        if (AddressOf(caller) is not { } address)
        {
            return Problems.Forbidden("this miner key is bound to no miner public key");
        }
        if (body is null)
        {
            return Problems.BadRequest("send the heartbeat as a JSON body");
        }
        var errors = new Dictionary<string, string[]>();
        var models = ValidateModels(body.Models, errors);
        if (body.InFlight is < 0 or > MaxCapacity)
        {
            errors["in_flight"] = [$"in_flight must be 0 to {MaxCapacity}"];
        }
        if (body.GpuUtilization is { } u && (!double.IsFinite(u) || u is < 0 or > 100))
        {
            errors["gpu_utilization"] = ["gpu_utilization must be 0 to 100"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = options.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (!await store.HeartbeatMinerAsync(address, models, body.InFlight, body.GpuUtilization, now, cancellationToken).ConfigureAwait(false))
        {
            return TypedResults.Ok(new HeartbeatAck(false, "unregistered"));
        }
        scheduler.Kick();
        return TypedResults.Ok(new HeartbeatAck(true, "online"));
    }

    private static List<string> ValidateModels(IReadOnlyList<string>? models, Dictionary<string, string[]> errors)
    {
        if (models is null || models.Count is 0 or > MaxModels)
        {
            errors["models"] = [$"models must list 1 to {MaxModels} model names"];
            return [];
        }
        for (var i = 0; i < models.Count; i++)
        {
            if (models[i] is null || !Jobs.JobRequestParser.IsModelName(models[i]))
            {
                errors[$"models[{i}]"] = ["a model name is 1 to 128 characters of A-Z a-z 0-9 . _ : / -, starting with a letter or digit"];
            }
        }
        return [.. models.Distinct(StringComparer.Ordinal)];
    }
}
