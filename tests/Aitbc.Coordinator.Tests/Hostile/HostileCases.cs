using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Testing.Hostile;

namespace Aitbc.Coordinator.Tests.Hostile;

/// <summary>A POST endpoint that reads a JSON body: where it is, who may call it and a body it would accept.</summary>
public sealed record BodyEndpoint(string Name, string Target, Who Who, string ValidBody);

/// <summary>Builders for the hostile case tables over a <see cref="HostileWorld"/>.</summary>
public sealed class HostileCases(HostileWorld world)
{
    /// <summary>JSON values of every type but string.</summary>
    public static readonly string[] NotStrings = ["0", "-1", "1.5", "1e400", "true", "[]", "{}", "[\"x\"]"];

    /// <summary>JSON values of every type but number.</summary>
    public static readonly string[] NotNumbers = ["\"1\"", "\"NaN\"", "\"Infinity\"", "true", "[]", "{}", "[1]", "\"\""];

    /// <summary>Amount strings no amount field may accept (wrong form, negative, zero, too precise, overflowing).</summary>
    public static readonly string[] BadAmounts =
    [
        "1", "0.5", "-1", "\"-1\"", "\"0\"", "\"-0\"", "\"0.0000001\"", "\"1e400\"", "\"1e2\"", "\"NaN\"", "\"Infinity\"", "\"18446744073709551616\"",
        "\"18446744073709.551616\"", "\"9223372036854775808\"", "\"1,5\"", "\" 1\"", "\"1 \"", "\"0x1\"", "\"+1\"", "\"\"", "\"\\uff11\"", "\"1.\"", "\".5\"",
        "\"\\ud800\"", "\"1\\u0000\"", "\"" + new string('9', 41) + "\"", "true", "[]", "{}",
    ];

    /// <summary>Identifier-like strings (models, roles, states) that no field should take.</summary>
    public static readonly string[] BadNames =
    [
        "\"\"", "\" \"", "\"../../etc/passwd\"", "\"a b\"", "\"-lead\"", "\"m\\u00f6del\"", "\"\\u202emodel\"", "\"\\ud83d\\ude00\"", "\"\\u0000\"", "\"model\\n\"",
        "\"%00\"", "\"\\ud800\"", "\"" + new string('a', 129) + "\"", "\"" + new string('a', 5_000) + "\"", "\"'; DROP TABLE jobs; --\"",
    ];

    public IReadOnlyList<string> Key(Who who) => world.KeyHeader(who);

    public HostileCase Post(string name, string target, Who who, string json, params int[] expected) =>
        new HostileCase(name, "POST", target) { Headers = Key(who), Expected = expected.Length == 0 ? [400] : expected }.WithJson(json);

    public HostileCase Get(string name, string target, Who who, params int[] expected) =>
        new(name, "GET", target) { Headers = Key(who), ContentType = null, Expected = expected.Length == 0 ? [400] : expected };

    /// <summary><paramref name="endpoint"/>'s valid body with <paramref name="path"/> set to each of <paramref name="values"/> (null: removed).</summary>
    public IEnumerable<HostileCase> Field(BodyEndpoint endpoint, string path, IEnumerable<string?> values, params int[] expected)
    {
        foreach (var value in values)
        {
            yield return Post($"{endpoint.Name} {path} := {(value is null ? "(missing)" : HostileCase.Shorten(value))}", endpoint.Target, endpoint.Who,
                HostileJson.With(endpoint.ValidBody, path, value), expected);
        }
    }

    /// <summary>A required string field: every other type, null, missing, and the given bad strings.</summary>
    public IEnumerable<HostileCase> RequiredString(BodyEndpoint endpoint, string path, params string[] badStrings) =>
        Field(endpoint, path, [.. NotStrings, "null", null, .. badStrings]);

    public string SubmitBody => Bodies.Flat(model: HostileWorld.UnservedModel, maxPrice: "2");

    public string RegisterBody => JsonSerializer.Serialize(
        new MinerRegistration(world.MinerA.Endpoint.AbsoluteUri, [HostileWorld.HeldModel], 8, "1", new GpuDescription("Fake GPU", 24_576, 1)), RestJson.Options);

    public static string HeartbeatBody => $$"""{"models":["{{HostileWorld.HeldModel}}"],"in_flight":1,"gpu_utilization":12.5}""";

    public static string StatusBody => """{"status":"running","started_at":"2026-01-01T00:00:00Z"}""";

    public string CompleteBody => JsonSerializer.Serialize(world.MinerA.Completion(world.RunningAssignment), RestJson.Options);

    public static string FailBody => """{"error":"out of memory"}""";

    public string KeyBody => JsonSerializer.Serialize(new { role = "client", address = Aitbc.Core.Crypto.Ed25519KeyPair.Generate().Address.Value });

    /// <summary>Every POST endpoint that reads a JSON body, each aimed where a valid body would change state.</summary>
    public IReadOnlyList<BodyEndpoint> BodyEndpoints =>
    [
        new("submit", "/v1/jobs", Who.ClientA, SubmitBody),
        new("register", "/v1/miners/register", Who.MinerA, RegisterBody),
        new("heartbeat", "/v1/miners/heartbeat", Who.MinerA, HeartbeatBody),
        new("status", $"/v1/jobs/{world.Assigned}/status", Who.MinerA, StatusBody),
        new("complete", $"/v1/jobs/{world.Running}/complete", Who.MinerA, CompleteBody),
        new("fail", $"/v1/jobs/{world.Running}/fail", Who.MinerA, FailBody),
        new("admin keys", "/v1/admin/keys", Who.Admin, KeyBody),
    ];

    /// <summary>Every route with the method it answers, the roles it admits, and a request a caller of such a role would make.</summary>
    public IReadOnlyList<(string Method, string Target, Who[] Allowed, string? Body)> Routes =>
    [
        ("POST", "/v1/jobs", [Who.ClientA, Who.ClientB], SubmitBody),
        ("GET", "/v1/jobs", [Who.ClientA, Who.ClientB], null),
        ("GET", $"/v1/jobs/{world.Pending}", [Who.ClientA, Who.ClientB, Who.Admin], null),
        ("POST", $"/v1/jobs/{world.Pending}/cancel", [Who.ClientA, Who.ClientB], null),
        ("POST", "/v1/miners/register", [Who.MinerA, Who.MinerB, Who.MinerC], RegisterBody),
        ("POST", "/v1/miners/heartbeat", [Who.MinerA, Who.MinerB, Who.MinerC], HeartbeatBody),
        ("POST", $"/v1/jobs/{world.Assigned}/status", [Who.MinerA, Who.MinerB, Who.MinerC], StatusBody),
        ("POST", $"/v1/jobs/{world.Running}/complete", [Who.MinerA, Who.MinerB, Who.MinerC], CompleteBody),
        ("POST", $"/v1/jobs/{world.Running}/fail", [Who.MinerA, Who.MinerB, Who.MinerC], FailBody),
        ("GET", $"/v1/receipts/{world.ReceiptOfCompleted}", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/market/miners", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/market/models", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/market/stats", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/explorer/blocks", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/explorer/transactions", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("GET", "/v1/explorer/receipts", [Who.ClientA, Who.ClientB, Who.MinerA, Who.MinerB, Who.MinerC, Who.Admin], null),
        ("POST", "/v1/admin/keys", [Who.Admin], KeyBody),
        ("GET", "/v1/admin/miners", [Who.Admin], null),
        ("GET", "/v1/admin/jobs", [Who.Admin], null),
    ];
}
