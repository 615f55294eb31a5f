using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Contracts.Coordinator;
using Aitbc.Coordinator.Tests.Infrastructure;
using Aitbc.Testing.Hostile;
using Xunit.Abstractions;

namespace Aitbc.Coordinator.Tests.Hostile;

/// <summary>Holds one <see cref="HostileWorld"/> for all the hostile tests, started by the first that needs it.</summary>
public sealed class HostileWorldHolder : IAsyncLifetime
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private HostileWorld? _world;

    public async Task<HostileWorld> GetAsync(CoordinatorFixture fixture)
    {
        await _gate.WaitAsync();
        try
        {
            return _world ??= await HostileWorld.StartAsync(fixture);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_world is not null)
        {
            await _world.DisposeAsync();
        }
        _gate.Dispose();
    }
}

/// <summary>
/// Hostile input on every coordinator endpoint (issue 8): each case must get the right 4xx with a problem body, leave
/// the coordinator healthy and change no table and no chain account. Each test writes how many cases it ran.
/// </summary>
[Collection(CoordinatorCollection.Name)]
public sealed class CoordinatorHostileTests(CoordinatorFixture fixture, HostileWorldHolder holder, ITestOutputHelper output) : IClassFixture<HostileWorldHolder>
{
    private async Task<(HostileWorld World, HostileCases Cases, HostileRunner Runner)> StartAsync()
    {
        var world = await holder.GetAsync(fixture);
        await world.QuiesceAsync();
        return (world, new HostileCases(world), new HostileRunner(world, output));
    }

    [Fact]
    public async Task Job_submission_refuses_bad_fields_amounts_unicode_and_reused_idempotency_keys()
    {
        var (world, cases, runner) = await StartAsync();
        var submit = cases.BodyEndpoints[0];
        var payload = $$"""{"payload":{"type":"inference","prompt":"p","model":"{{HostileWorld.UnservedModel}}"},"ttl_seconds":60}""";
        var payloadForm = submit with { Name = "submit (payload form)", ValidBody = payload };
        var prompt = world.Coordinator.Options.MaxPromptBytes;

        var table = new List<HostileCase>();
        table.AddRange(cases.RequiredString(submit, "type", "\"training\"", "\"INFERENCE\"", "\"inference \"", "\"\"", "\"\\u0000\"", "\"\\ud800\""));
        table.AddRange(cases.RequiredString(submit, "prompt", "\"\"", "\"   \"", "\"\\ud800\"", "\"a\\udc00\"", $"\"{new string('x', prompt + 1)}\"",
            $"\"{new string('\u00e9', (prompt / 2) + 1)}\""));
        table.AddRange(cases.RequiredString(submit, "model", HostileCases.BadNames));
        table.AddRange(cases.Field(submit, "options", ["[]", "\"x\"", "1", "true", "{\"top_k\":1}", "{\"temperature\":0.5,\"temperature\":0.6}"]));
        table.AddRange(cases.Field(submit, "options.temperature", ["-0.1", "-1", "2.01", "1e400", "-1e400", "null", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(submit, "options.num_predict", ["0", "-1", "8193", "2147483648", "9223372036854775808", "18446744073709551616", "1.5", "1e400", "null", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(submit, "options.seed", ["1.5", "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1e400", "null", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(submit, "max_price", [.. HostileCases.BadAmounts, "\"1000.000001\"", "\"1001\""]));
        table.AddRange(cases.Field(submit, "ttl_seconds", ["0", "-1", "86401", "2147483648", "9223372036854775808", "18446744073709551616", "1.5", "1e400", "-1e400", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(payloadForm, "payload", ["[]", "\"x\"", "1", "true", "{}"]));
        table.AddRange(cases.RequiredString(payloadForm, "payload.model", "\"\"", "\"../x\""));
        table.AddRange(cases.RequiredString(payloadForm, "payload.prompt", "\"\""));
        table.AddRange(cases.Field(payloadForm, "ttl_seconds", ["0", "-1", "86401", "1e400", "\"60\""]));
        // Valid in form but more than the chain will escrow: the allowance (100, or client B's 10) runs out. 402 and nothing kept.
        table.Add(cases.Post("submit over the allowance", "/v1/jobs", Who.ClientA, Bodies.Flat(model: HostileWorld.UnservedModel, maxPrice: "999"), 402));
        table.Add(cases.Post("client B over its allowance", "/v1/jobs", Who.ClientB, Bodies.Flat(model: HostileWorld.UnservedModel, maxPrice: "9"), 402));
        // Idempotency-Key: a replay answers the first job and stores nothing; a different body under the same key is refused.
        var key = $"Idempotency-Key: {HostileWorld.PendingIdempotencyKey}";
        table.Add(cases.Post("same Idempotency-Key, same body (replay)", "/v1/jobs", Who.ClientA, world.PendingBody, 201) with { Headers = [.. cases.Key(Who.ClientA), key] });
        var reordered = JsonSerializer.Serialize(JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(world.PendingBody)!.Reverse().ToDictionary(), new JsonSerializerOptions { WriteIndented = true });
        table.Add(cases.Post("same Idempotency-Key, same body reordered (replay)", "/v1/jobs", Who.ClientA, reordered, 201) with { Headers = [.. cases.Key(Who.ClientA), key] });
        table.Add(cases.Post("same Idempotency-Key, another body", "/v1/jobs", Who.ClientA, Bodies.Flat(prompt: "other", model: HostileWorld.UnservedModel), 422) with { Headers = [.. cases.Key(Who.ClientA), key] });
        table.Add(cases.Post("same Idempotency-Key, another max_price", "/v1/jobs", Who.ClientA, Bodies.Flat(model: HostileWorld.UnservedModel, maxPrice: "3"), 422) with { Headers = [.. cases.Key(Who.ClientA), key] });
        foreach (var (name, value) in new[] { ("empty", ""), ("201 chars", new string('k', 201)), ("tab", "a\tb"), ("DEL", "a\u007fb"), ("10k chars", new string('k', 10_000)) })
        {
            table.Add(cases.Post($"Idempotency-Key {name}", "/v1/jobs", Who.ClientA, cases.SubmitBody) with { Headers = [.. cases.Key(Who.ClientA), $"Idempotency-Key: {value}"] });
        }
        foreach (var (name, value) in new[] { ("Latin-1 byte", "k\u00e9y"), ("control byte", "k\u0001y"), ("NUL", "k\u0000y") })
        {
            table.Add(cases.Post($"Idempotency-Key {name}", "/v1/jobs", Who.ClientA, cases.SubmitBody) with { Headers = [.. cases.Key(Who.ClientA), $"Idempotency-Key: {value}"], ProtocolLevel = true });
        }
        await runner.RunAsync(table);

        // Free text may hold any Unicode: accepted (or refused) but never a 5xx.
        var lenient = new[] { "\\ud83d\\ude00 emoji", "\\u202eright-to-left\\u200f", "nul \\u0000 inside", "\\uffff\\ufffe", "e\\u0301\\u0301\\u0301", string.Concat(Enumerable.Repeat("\U0001F600", prompt / 4)) };
        foreach (var text in lenient)
        {
            var body = HostileJson.With(cases.SubmitBody, "prompt", $"\"{text}\"");
            var response = await runner.RunOneAsync(cases.Post($"prompt {HostileCase.Shorten(text)}", "/v1/jobs", Who.ClientA, body) with { MayChangeState = true });
            if (response is { Status: 201 })
            {
                using var accepted = JsonDocument.Parse(response.Body);
                var jobId = accepted.RootElement.GetProperty("job_id").GetString()!;
                var stored = await world.Coordinator.Store.GetJobAsync(jobId, default);
                if (stored?.Prompt != JsonSerializer.Deserialize<string>($"\"{text}\""))
                {
                    runner.Fail($"prompt {HostileCase.Shorten(text)}: stored as {HostileCase.Shorten(stored?.Prompt ?? "(none)")}");
                }
            }
        }
        runner.AssertAll("POST /v1/jobs");
    }

    [Fact]
    public async Task Job_reads_lists_and_cancels_refuse_hostile_ids_queries_and_other_clients()
    {
        var (world, cases, runner) = await StartAsync();
        var table = new List<HostileCase>();
        var ids = new (string Name, string Id, int Status)[]
        {
            ("client B's job", world.OtherRunning, 404),
            ("no such job", "job_doesnotexist", 404),
            ("traversal", "..%2F..%2Fetc%2Fpasswd", 404),
            ("dot-dot", "%2e%2e", 404),
            ("encoded invalid UTF-8", "job_%FF%FE", 404),
            ("SQL", "job_'%20OR%20'1'%3D'1", 404),
            ("5k chars", new string('j', 5_000), 404),
            ("encoded slash", "job_%2Fx", 404),
        };
        foreach (var (name, id, status) in ids)
        {
            table.Add(cases.Get($"GET job {name}", $"/v1/jobs/{id}", Who.ClientA, status));
            table.Add(cases.Get($"GET job {name} by admin", $"/v1/jobs/{id}", Who.Admin, id == world.OtherRunning ? 200 : status));
            table.Add(cases.Post($"cancel job {name}", $"/v1/jobs/{id}/cancel", Who.ClientA, "", status) with { ContentType = null });
        }
        // Kestrel refuses these request targets itself, before routing: a NUL, raw non-ASCII bytes, a line over 8 KiB.
        foreach (var (name, target, status) in new[] { ("encoded NUL", "/v1/jobs/job_%00", 400), ("raw UTF-8", "/v1/jobs/job_\u00c3\u00a9", 400), ("NUL route", "/%00", 400),
            ("10k-char id", $"/v1/jobs/{new string('j', 10_000)}", 414) })
        {
            table.Add(cases.Get($"GET {name}", target, Who.ClientA, status) with { ProtocolLevel = true });
            table.Add(cases.Post($"cancel {name}", target + "/cancel", Who.ClientA, "", status) with { ContentType = null, ProtocolLevel = true });
        }
        table.Add(cases.Get("GET client A's job as client B", $"/v1/jobs/{world.Pending}", Who.ClientB, 404));
        table.Add(cases.Get("GET client A's job as client B with wait", $"/v1/jobs/{world.Running}?wait=5", Who.ClientB, 404));
        table.Add(cases.Get("GET client A's receipt as client B", $"/v1/receipts/{world.ReceiptOfCompleted}", Who.ClientB, 404));
        table.Add(cases.Get("GET client A's receipt as miner B", $"/v1/receipts/{world.ReceiptOfCompleted}", Who.MinerB, 404));
        table.Add(cases.Get("GET client A's receipt as unregistered miner C", $"/v1/receipts/{world.ReceiptOfCompleted}", Who.MinerC, 404));
        foreach (var wait in new[] { "-1", "11", "99999999999", "abc", "1.5", "", "%201", "%2B1", "1e1", "0x1", "1%00", "%EF%BC%91", "1&wait=2" })
        {
            table.Add(cases.Get($"wait={wait}", $"/v1/jobs/{world.Running}?wait={wait}", Who.ClientA));
        }
        foreach (var limit in new[] { "0", "-1", "101", "abc", "1.5", "", "99999999999999999999", "%00", "1e1" })
        {
            table.Add(cases.Get($"list limit={limit}", $"/v1/jobs?limit={limit}", Who.ClientA));
            table.Add(cases.Get($"admin jobs limit={limit}", $"/v1/admin/jobs?limit={limit}", Who.Admin));
            table.Add(cases.Get($"explorer receipts limit={limit}", $"/v1/explorer/receipts?limit={limit}", Who.ClientA));
            table.Add(cases.Get($"explorer blocks limit={limit}", $"/v1/explorer/blocks?limit={limit}", Who.ClientA));
            table.Add(cases.Get($"explorer transactions limit={limit}", $"/v1/explorer/transactions?limit={limit}", Who.ClientA));
        }
        string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        foreach (var cursor in new[] { "!!!", "a", B64("abc"), B64(":x"), B64("-1:x"), B64("99999999999999999999:x"), new string('A', 5_000), "%00", "%FF", B64("1") })
        {
            table.Add(cases.Get($"list cursor={HostileCase.Shorten(cursor)}", $"/v1/jobs?cursor={cursor}", Who.ClientA));
            table.Add(cases.Get($"admin jobs cursor={HostileCase.Shorten(cursor)}", $"/v1/admin/jobs?cursor={cursor}", Who.Admin));
            table.Add(cases.Get($"explorer receipts cursor={HostileCase.Shorten(cursor)}", $"/v1/explorer/receipts?cursor={cursor}", Who.ClientA));
        }
        foreach (var cursor in new[] { "0", "-1", "abc", "9223372036854775808", "1.5", "%00" })
        {
            table.Add(cases.Get($"explorer blocks cursor={cursor}", $"/v1/explorer/blocks?cursor={cursor}", Who.ClientA));
        }
        foreach (var cursor in new[] { "0", "100000", "-1", "abc", "99999999999999999999" })
        {
            table.Add(cases.Get($"explorer transactions cursor={cursor}", $"/v1/explorer/transactions?cursor={cursor}", Who.ClientA));
        }
        foreach (var status in new[] { "PENDING", "pending%20", "", "unknown", "%00", "pending,running" })
        {
            table.Add(cases.Get($"admin jobs status={status}", $"/v1/admin/jobs?status={status}", Who.Admin));
        }
        foreach (var (name, id, status) in new[] { ("completed", world.Completed, 409), ("running", world.Running, 409), ("failed", world.Failed, 409), ("cancelled", world.Cancelled, 409) })
        {
            table.Add(cases.Post($"cancel a {name} job", $"/v1/jobs/{id}/cancel", Who.ClientA, "", status) with { ContentType = null });
            table.Add(cases.Post($"cancel a {name} job with a garbage body", $"/v1/jobs/{id}/cancel", Who.ClientA, "{{{", status));
        }
        table.Add(cases.Post("cancel client A's pending job as client B", $"/v1/jobs/{world.Pending}/cancel", Who.ClientB, "", 404) with { ContentType = null });
        table.Add(cases.Post("cancel client A's assigned job as client B", $"/v1/jobs/{world.Assigned}/cancel", Who.ClientB, "", 404) with { ContentType = null });
        foreach (var (id, name) in new[] { ("rcpt_doesnotexist", "no such receipt"), ("..%2F..%2Fetc%2Fpasswd", "traversal"), (new string('r', 5_000), "5k chars"), ("rcpt_%FF", "invalid UTF-8") })
        {
            table.Add(cases.Get($"GET receipt {name}", $"/v1/receipts/{id}", Who.ClientA, 404));
        }
        foreach (var (method, target) in new[] { ("DELETE", "/v1/jobs"), ("PUT", $"/v1/jobs/{world.Pending}"), ("DELETE", $"/v1/jobs/{world.Pending}"), ("GET", $"/v1/jobs/{world.Pending}/cancel"),
            ("PATCH", "/v1/miners/register"), ("GET", "/v1/miners/heartbeat"), ("GET", $"/v1/jobs/{world.Running}/complete"), ("POST", "/v1/market/miners"), ("POST", "/v1/admin/jobs"),
            ("GET", "/v1/admin/keys"), ("POST", "/healthz"), ("DELETE", "/metrics"), ("POST", "/readyz"), ("POST", "/openapi/v1.json") })
        {
            table.Add(new HostileCase($"{method} not allowed", method, target) { Headers = cases.Key(Who.Admin), ContentType = null, Expected = [405] });
        }
        foreach (var target in new[] { "/v2/jobs", "/v1/jobs/a/b/c", "/openapi/v2.json", "/openapi/..%2F..%2Fetc%2Fpasswd.json", "/v1/admin" })
        {
            table.Add(new HostileCase($"unknown route {target}", "GET", target) { Headers = cases.Key(Who.Admin), ContentType = null, Expected = [404] });
        }
        await runner.RunAsync(table);
        runner.AssertAll("job reads, lists, cancels, receipts, views and routes");
    }

    [Fact]
    public async Task Miner_registration_and_heartbeat_refuse_bad_fields()
    {
        var (_, cases, runner) = await StartAsync();
        var register = cases.BodyEndpoints[1];
        var heartbeat = cases.BodyEndpoints[2];
        string[] badModels = ["[]", "[null]", "[\"\"]", "[\"../x\"]", "[1]", $"[\"{new string('a', 129)}\"]", $"[{string.Join(",", Enumerable.Range(0, 65).Select(i => $"\"m{i}\""))}]",
            "[\"ok\",\"\\ud83d\\ude00\"]", "[\"\\ud800\"]", "[[\"x\"]]", "null", null!, .. HostileCases.NotStrings.Where(v => v.StartsWith('[') is false)];
        var table = new List<HostileCase>();
        table.AddRange(cases.RequiredString(register, "endpoint", "\"\"", "\"ftp://example.com/\"", "\"javascript:alert(1)\"", "\"file:///etc/passwd\"", "\"/relative\"", "\"http://\"",
            "\"not a url\"", "\"http://[::1\"", "\"\\u0000\"", "\"\\ud800\""));
        table.AddRange(cases.Field(register, "models", badModels));
        table.AddRange(cases.Field(register, "capacity", ["0", "-1", "257", "2147483648", "9223372036854775808", "1.5", "1e400", "null", null, .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(register, "price_per_second", [.. HostileCases.BadAmounts, "\"101\"", "\"100.000001\"", "null", null]));
        table.AddRange(cases.Field(register, "gpu", ["\"x\"", "[]", "1", "true", "{}", "{\"name\":\"\"}", $"{{\"name\":\"{new string('g', 201)}\"}}", "{\"name\":\"g\",\"memory_total_mb\":-1}",
            "{\"name\":\"g\",\"count\":-1}", "{\"name\":\"g\",\"count\":2147483648}", "{\"name\":\"g\",\"memory_total_mb\":1e400}", "{\"name\":\"g\",\"extra\":1}", "{\"name\":1}"]));
        table.AddRange(cases.Field(register, "extra", ["1", "\"x\"", "null"]));
        table.AddRange(cases.Field(heartbeat, "models", badModels));
        table.AddRange(cases.Field(heartbeat, "in_flight", ["-1", "257", "1.5", "2147483648", "1e400", "null", null, .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(heartbeat, "gpu_utilization", ["-0.1", "100.1", "1e400", "-1e400", "\"12\"", "\"NaN\"", "true", "[]", "{}"]));
        table.AddRange(cases.Field(heartbeat, "extra", ["1"]));
        // An unregistered miner's heartbeat is answered (registered: false) and changes nothing.
        table.Add(cases.Post("heartbeat from an unregistered miner", "/v1/miners/heartbeat", Who.MinerC, HostileCases.HeartbeatBody, 200));
        await runner.RunAsync(table);
        runner.AssertAll("POST /v1/miners/register and /heartbeat");
    }

    [Fact]
    public async Task Miner_job_reports_refuse_forged_proofs_other_miners_jobs_and_bad_fields()
    {
        var (world, cases, runner) = await StartAsync();
        var status = cases.BodyEndpoints[3];
        var complete = cases.BodyEndpoints[4];
        var fail = cases.BodyEndpoints[5];
        var running = world.RunningAssignment;
        string Completion(JobCompletion c) => JsonSerializer.Serialize(c, RestJson.Options);
        var valid = world.MinerA.Completion(running);
        var table = new List<HostileCase>
        {
            cases.Post("complete signed by miner B's key", complete.Target, Who.MinerA, Completion(world.MinerA.Completion(running, signer: world.MinerB.Key))),
            cases.Post("complete with a proof hash of another result", complete.Target, Who.MinerA, Completion(world.MinerA.Completion(running, hashOverride: new string('0', 64)))),
            cases.Post("complete with the result changed after signing", complete.Target, Who.MinerA, Completion(valid with { Result = valid.Result + "!" })),
            cases.Post("complete with the result and hash changed after signing", complete.Target, Who.MinerA, Completion(valid with
            {
                Result = "forged",
                Proof = valid.Proof with { Hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("forged"u8)) },
            })),
            cases.Post("complete with compute_time raised after signing", complete.Target, Who.MinerA, Completion(valid with { Metrics = valid.Metrics with { ComputeTime = 999 } })),
            cases.Post("complete with tokens changed after signing", complete.Target, Who.MinerA, Completion(valid with { Metrics = valid.Metrics with { TokensGenerated = 43 } })),
            cases.Post("complete with another job's signed proof", $"/v1/jobs/{world.Assigned}/complete", Who.MinerA, Completion(valid)),
            cases.Post("complete with job_id of the other job", $"/v1/jobs/{world.Assigned}/complete", Who.MinerA, Completion(valid with { JobId = world.Assigned })),
            cases.Post("miner B completes miner A's job", complete.Target, Who.MinerB, Completion(valid), 404),
            cases.Post("miner B completes miner A's job with its own proof", complete.Target, Who.MinerB, Completion(world.MinerA.Completion(running, signer: world.MinerB.Key)), 404),
            cases.Post("unregistered miner C completes miner A's job", complete.Target, Who.MinerC, Completion(valid), 404),
            cases.Post("miner A completes client B's job on miner B", $"/v1/jobs/{world.OtherRunning}/complete", Who.MinerA,
                Completion(world.MinerA.Completion(world.OtherAssignment)), 404),
            cases.Post("miner A completes a failed job", $"/v1/jobs/{world.Failed}/complete", Who.MinerA, Completion(valid with { JobId = world.Failed }), 409),
            cases.Post("miner A completes a pending job", $"/v1/jobs/{world.Pending}/complete", Who.MinerA, Completion(valid with { JobId = world.Pending }), 404),
            cases.Post("miner A completes a cancelled job", $"/v1/jobs/{world.Cancelled}/complete", Who.MinerA, Completion(valid with { JobId = world.Cancelled }), 404),
            cases.Post("complete a completed job again with another result", $"/v1/jobs/{world.Completed}/complete", Who.MinerA,
                Completion(JsonSerializer.Deserialize<JobCompletion>(world.CompletedBody, RestJson.Options)! with { Result = "again" }), 409),
            // The same completion again is a replay: answered as done, nothing stored twice.
            cases.Post("complete replayed", $"/v1/jobs/{world.Completed}/complete", Who.MinerA, world.CompletedBody, 200),
            cases.Post("miner B replays miner A's completion", $"/v1/jobs/{world.Completed}/complete", Who.MinerB, world.CompletedBody, 404),
        };
        table.AddRange(cases.RequiredString(complete, "job_id", "\"\"", $"\"{world.Assigned}\"", "\"\\ud800\""));
        table.AddRange(cases.RequiredString(complete, "result", "\"\"", $"\"{new string('r', world.Coordinator.Options.MaxResultBytes + 1)}\""));
        table.AddRange(cases.Field(complete, "metrics", ["null", null, "[]", "\"x\"", "1", "{}"]));
        table.AddRange(cases.Field(complete, "metrics.compute_time", ["-1", "-0.001", "1e400", "-1e400", "null", null, .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(complete, "metrics.tokens_generated", ["-1", "1.5", "9223372036854775808", "18446744073709551616", "1e400", "null", null, .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(complete, "metrics.prompt_tokens", ["1.5", "9223372036854775808", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(complete, "metrics.gpu_utilization", ["1e400", .. HostileCases.NotNumbers]));
        table.AddRange(cases.Field(complete, "proof", ["null", null, "[]", "\"x\"", "1", "{}"]));
        table.AddRange(cases.RequiredString(complete, "proof.hash", "\"\"", $"\"{new string('g', 64)}\"", $"\"{valid.Proof.Hash.ToUpperInvariant()}\""));
        table.AddRange(cases.RequiredString(complete, "proof.signature", "\"\"", "\"not base64!!\"", $"\"{Convert.ToBase64String(new byte[63])}\"", $"\"{Convert.ToBase64String(new byte[64])}\"",
            $"\"{Convert.ToBase64String(new byte[65])}\"", $"\"{new string('A', 10_000)}\"", "\"\\ud800\""));
        table.AddRange(cases.Field(complete, "extra", ["1"]));

        foreach (var (who, id, expected, name) in new[]
        {
            (Who.MinerB, world.Assigned, 404, "miner B starts miner A's job"),
            (Who.MinerC, world.Assigned, 404, "unregistered miner C starts miner A's job"),
            (Who.MinerA, world.OtherRunning, 404, "miner A starts miner B's job"),
            (Who.MinerA, world.Completed, 409, "miner A starts a completed job"),
            (Who.MinerA, world.Failed, 409, "miner A starts a failed job"),
            (Who.MinerA, world.Pending, 404, "miner A starts a pending job"),
            (Who.MinerA, world.Cancelled, 404, "miner A starts a cancelled job"),
            (Who.MinerA, "job_doesnotexist", 404, "miner A starts no job"),
        })
        {
            table.Add(cases.Post(name, $"/v1/jobs/{id}/status", who, HostileCases.StatusBody, expected));
        }
        table.AddRange(cases.RequiredString(status, "status", "\"completed\"", "\"RUNNING\"", "\"\"", "\"assigned\"", "\"running \"", "\"\\ud800\""));
        table.AddRange(cases.RequiredString(status, "started_at", "\"\"", "\"tomorrow\"", "\"9999-99-99T00:00:00Z\"", "\"\\ud800\"", $"\"{new string('9', 5_000)}\""));
        table.AddRange(cases.Field(status, "extra", ["1"]));

        foreach (var (who, id, expected, name) in new[]
        {
            (Who.MinerB, world.Running, 404, "miner B fails miner A's job"),
            (Who.MinerC, world.Running, 404, "unregistered miner C fails miner A's job"),
            (Who.MinerA, world.OtherRunning, 404, "miner A fails miner B's job"),
            (Who.MinerA, world.Completed, 409, "miner A fails a completed job"),
            (Who.MinerA, world.Failed, 409, "miner A fails a failed job"),
            (Who.MinerA, world.Pending, 404, "miner A fails a pending job"),
            (Who.MinerA, world.Cancelled, 404, "miner A fails a cancelled job"),
        })
        {
            table.Add(cases.Post(name, $"/v1/jobs/{id}/fail", who, HostileCases.FailBody, expected));
        }
        table.AddRange(cases.RequiredString(fail, "error", "\"\"", $"\"{new string('e', 2_001)}\""));
        table.AddRange(cases.Field(fail, "extra", ["1"]));
        await runner.RunAsync(table);
        runner.AssertAll("POST /v1/jobs/{id}/status, /complete, /fail");
    }

    [Fact]
    public async Task Admin_key_creation_refuses_bad_roles_addresses_and_public_keys()
    {
        var (world, cases, runner) = await StartAsync();
        var keys = cases.BodyEndpoints[6];
        var address = world.ClientA.Address.Value;
        var flipped = address[..^1] + (address[^1] == 'q' ? 'p' : 'q');
        var miner = $$"""{"role":"miner","miner_pub_key":"{{world.MinerCKey.PublicKey.Base64}}"}""";
        var minerKeys = keys with { Name = "admin keys (miner)", ValidBody = miner };
        var table = new List<HostileCase>();
        table.AddRange(cases.RequiredString(keys, "role", "\"\"", "\"root\"", "\"ADMIN\"", "\"Client\"", "\"client\\u0000\"", "\"\\ud800\"", "\"client \""));
        table.AddRange(cases.Field(keys, "address", ["\"\"", "\"aitbc1xyz\"", $"\"{flipped}\"", $"\"{address.ToUpperInvariant()}x\"", $"\"\\u202e{address}\"", $"\"{address}\\u0000\"",
            $"\"{address} \"", "1", "[]", "{}", "null", null]));
        table.Add(cases.Post("admin key bound to an address", keys.Target, Who.Admin, $$"""{"role":"admin","address":"{{address}}"}"""));
        table.Add(cases.Post("client key bound to a public key too", keys.Target, Who.Admin, $$"""{"role":"client","address":"{{address}}","miner_pub_key":"{{world.MinerCKey.PublicKey.Base64}}"}"""));
        table.Add(cases.Post("duplicate role, case-folded", keys.Target, Who.Admin, $$"""{"role":"client","ROLE":"admin","address":"{{address}}"}"""));
        table.Add(cases.Post("duplicate role", keys.Target, Who.Admin, $$"""{"role":"client","role":"admin","address":"{{address}}"}"""));
        table.AddRange(cases.Field(minerKeys, "miner_pub_key", ["\"\"", "\"short\"", $"\"{Convert.ToBase64String(new byte[31])}\"", $"\"{Convert.ToBase64String(new byte[33])}\"", "\"!!!\"",
            $"\"{world.MinerCKey.PublicKey.Base64}\\u0000\"", "1", "[]", "null", null]));
        table.Add(cases.Post("miner key bound to an address too", keys.Target, Who.Admin, HostileJson.With(miner, "address", $"\"{address}\"")));
        table.AddRange(cases.Field(keys, "key_id", ["\"chosen\""]));
        table.AddRange(cases.Field(keys, "key_hash", ["\"00\""]));
        await runner.RunAsync(table);
        runner.AssertAll("POST /v1/admin/keys");
    }

    [Fact]
    public async Task Every_endpoint_refuses_missing_garbage_and_wrong_role_keys()
    {
        var (world, cases, runner) = await StartAsync();
        var admin = RunningCoordinator.AdminKey;
        var clientKey = world.ClientA.ApiKey;
        var garbage = new (string Name, string[] Headers, bool ProtocolLevel)[]
        {
            ("no key", [], false),
            ("empty key", ["X-Api-Key: "], false),
            ("empty miner key", ["X-Miner-Key: "], false),
            ("one-char key", ["X-Api-Key: x"], false),
            ("257-char key", [$"X-Api-Key: {new string('k', 257)}"], false),
            ("10k-char key", [$"X-Api-Key: {new string('k', 10_000)}"], false),
            ("unknown key id", ["X-Api-Key: ak_000000000000.secret"], false),
            ("right id, wrong secret", [$"X-Api-Key: {clientKey[..^2]}xx"], false),
            ("admin key plus a char", [$"X-Api-Key: {admin}x"], false),
            ("admin key less a char", [$"X-Api-Key: {admin[..^1]}"], false),
            ("admin key upper-cased", [$"X-Api-Key: {admin.ToUpperInvariant()}"], false),
            ("garbage miner key beside a valid admin key", ["X-Miner-Key: nonsense", $"X-Api-Key: {admin}"], false),
            ("garbage first of two api keys", ["X-Api-Key: nonsense", $"X-Api-Key: {admin}"], false),
            ("Latin-1 byte in the key", [$"X-Api-Key: {admin}\u00e9"], true),
            ("NUL in the key", [$"X-Api-Key: {admin}\u0000"], true),
            ("space in the header name", [$"X-Api-Key : {admin}"], true),
            ("64 KiB of headers", [$"X-Api-Key: {admin}", $"X-Padding: {new string('p', 64 * 1024)}"], true),
        };
        var roles = new[] { Who.ClientA, Who.MinerA, Who.MinerC, Who.Admin };
        var table = new List<HostileCase>();
        foreach (var (method, target, allowed, body) in cases.Routes)
        {
            HostileCase Make(string name, IReadOnlyList<string> headers, int[] expected, bool protocolLevel = false) =>
                new HostileCase($"{method} {target.Split('/').Take(4).Aggregate((a, b) => a + "/" + b)} {name}", method, target)
                {
                    Headers = headers,
                    Body = body is null ? [] : Encoding.UTF8.GetBytes(body),
                    ContentType = body is null ? null : "application/json",
                    Expected = expected,
                    ProtocolLevel = protocolLevel,
                };
            foreach (var role in roles.Where(r => !allowed.Contains(r)))
            {
                table.Add(Make($"as {role}", cases.Key(role), [403]));
            }
            // A miner key in X-Api-Key is still a miner key.
            if (!allowed.Contains(Who.MinerA))
            {
                table.Add(Make("miner key in X-Api-Key", [$"X-Api-Key: {world.MinerA.ApiKey}"], [403]));
            }
            foreach (var (name, headers, protocolLevel) in garbage)
            {
                table.Add(Make(name, headers, protocolLevel ? [400, 401, 431] : [401], protocolLevel));
            }
            // The key is checked before the body is read: a bad body from a caller without the right key is still 401/403.
            if (method == "POST")
            {
                var wrongRole = roles.First(r => !allowed.Contains(r));
                foreach (var (name, bytes) in new[] { ("malformed body", "{"u8.ToArray()), ("body over the limit", new byte[world.Coordinator.Options.MaxRequestBodyBytes + 1]) })
                {
                    table.Add(Make($"no key, {name}", [], [401]) with { Body = bytes });
                    table.Add(Make($"as {wrongRole}, {name}", cases.Key(wrongRole), [403]) with { Body = bytes });
                }
                table.Add(Make("no key, Content-Length of 1 TB", ["Content-Length: 1000000000000"], [401]) with { ContentLength = false });
            }
        }
        await runner.RunAsync(table);
        runner.AssertAll("keys and roles on every endpoint");
    }

    [Fact]
    public async Task Every_json_endpoint_refuses_malformed_bodies_wrong_content_types_and_oversized_bodies()
    {
        var (world, cases, runner) = await StartAsync();
        var limit = world.Coordinator.Options.MaxRequestBodyBytes;
        var table = new List<HostileCase>();
        foreach (var endpoint in cases.BodyEndpoints)
        {
            var headers = cases.Key(endpoint.Who);
            foreach (var (name, body, contentType, expected) in HostileJson.MalformedBodies(endpoint.ValidBody))
            {
                table.Add(new HostileCase($"{endpoint.Name}: {name}", "POST", endpoint.Target) { Headers = headers, Body = body, ContentType = contentType, Expected = expected });
            }
            var padded = HostileJson.With(endpoint.ValidBody, "padding", $"\"{new string('p', (int)limit)}\"");
            table.Add(new HostileCase($"{endpoint.Name}: body over the limit", "POST", endpoint.Target) { Headers = headers, Expected = [413] }.WithJson(padded));
            table.Add(new HostileCase($"{endpoint.Name}: Content-Length of 1 TB, short body", "POST", endpoint.Target)
            {
                Headers = [.. headers, "Content-Length: 1000000000000"],
                ContentLength = false,
                Expected = [413],
            }.WithJson(endpoint.ValidBody));
            table.Add(new HostileCase($"{endpoint.Name}: chunked body over the limit", "POST", endpoint.Target)
            {
                Headers = [.. headers, "Transfer-Encoding: chunked"],
                ContentLength = false,
                Body = Encoding.ASCII.GetBytes($"{Encoding.UTF8.GetByteCount(padded):x}\r\n{padded}\r\n0\r\n\r\n"),
                Expected = [413],
            });
            table.Add(new HostileCase($"{endpoint.Name}: chunked body with bad framing", "POST", endpoint.Target)
            {
                Headers = [.. headers, "Transfer-Encoding: chunked"],
                ContentLength = false,
                Body = "zz\r\n{}\r\n0\r\n\r\n"u8.ToArray(),
                Expected = [400],
                ProtocolLevel = true,
            });
            foreach (var (name, header) in new[] { ("negative", "Content-Length: -1"), ("non-numeric", "Content-Length: abc"), ("overflowing", "Content-Length: 99999999999999999999999") })
            {
                table.Add(new HostileCase($"{endpoint.Name}: {name} Content-Length", "POST", endpoint.Target)
                {
                    Headers = [.. headers, header],
                    ContentLength = false,
                    Expected = [400],
                    ProtocolLevel = true,
                }.WithJson(endpoint.ValidBody));
            }
            table.Add(new HostileCase($"{endpoint.Name}: two Content-Lengths", "POST", endpoint.Target)
            {
                Headers = [.. headers, "Content-Length: 2", "Content-Length: 3"],
                ContentLength = false,
                Expected = [400],
                ProtocolLevel = true,
            }.WithJson("{}x"));
        }
        table.Add(new HostileCase("cancel: Content-Length of 1 TB", "POST", $"/v1/jobs/{world.Completed}/cancel")
        {
            Headers = [.. cases.Key(Who.ClientA), "Content-Length: 1000000000000"],
            ContentLength = false,
            Expected = [409, 413],
        }.WithJson("{}"));
        await runner.RunAsync(table);

        // No Content-Length and no end: the limit must stop the body as it streams, not after buffering it all.
        foreach (var endpoint in cases.BodyEndpoints)
        {
            foreach (var chunked in new[] { true, false })
            {
                var framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: 1000000000";
                var before = await world.SnapshotAsync(withChain: false);
                var head = RawHttp.Head(world.Url, "POST", endpoint.Target, [.. cases.Key(endpoint.Who), "Content-Type: application/json", framing]);
                var (response, sent) = await RawHttp.StreamUntilAnsweredAsync(world.Url, head, chunked, maxBytes: 256L * 1024 * 1024);
                var name = $"{endpoint.Name}: endless body ({framing})";
                var streamCase = new HostileCase(name, "POST", endpoint.Target) { Expected = [413] };
                if (response is null)
                {
                    runner.Fail($"{name}: no answer after {sent} bytes");
                }
                else if (streamCase.Judge(response) is { } wrong)
                {
                    runner.Fail($"{name}: {wrong}");
                }
                // Socket buffers take a few MiB before the answer is seen; a server reading it all would take all 256 MiB.
                else if (sent > 64L * 1024 * 1024)
                {
                    runner.Fail($"{name}: answered only after {sent} bytes (limit {limit})");
                }
                if (!(await world.SnapshotAsync(withChain: false)).Equals(before))
                {
                    runner.Fail($"{name}: changed state");
                }
                output.WriteLine($"{name}: {response?.Status} after {sent} bytes sent");
            }
        }
        runner.AssertAll("malformed, mistyped and oversized bodies on every JSON endpoint");
    }

    [Fact]
    public async Task A_chunked_body_over_the_limit_is_413_even_when_its_first_chunk_already_breaks_the_contract()
    {
        // The first chunk holds the start of an unknown member ("padding"), which the contract refuses; the rest of the
        // body, sent only after the server has had time to read and parse that chunk, takes it over the limit. The
        // answer must not depend on how much of the body had arrived when the server began to read it.
        var (world, cases, _) = await StartAsync();
        var limit = world.Coordinator.Options.MaxRequestBodyBytes;
        var failures = new List<string>();
        foreach (var endpoint in cases.BodyEndpoints)
        {
            var padded = Encoding.UTF8.GetBytes(HostileJson.With(endpoint.ValidBody, "padding", $"\"{new string('p', (int)limit)}\""));
            var split = Encoding.UTF8.GetByteCount(endpoint.ValidBody) + 1024;
            var first = Encoding.ASCII.GetBytes($"{split:x}\r\n").Concat(padded[..split]).Concat("\r\n"u8.ToArray()).ToArray();
            var rest = Encoding.ASCII.GetBytes($"{padded.Length - split:x}\r\n").Concat(padded[split..]).Concat("\r\n0\r\n\r\n"u8.ToArray()).ToArray();
            var head = RawHttp.Head(world.Url, "POST", endpoint.Target, [.. cases.Key(endpoint.Who), "Content-Type: application/json", "Transfer-Encoding: chunked"]);
            var name = $"{endpoint.Name}: chunked body over the limit, its first chunk sent alone";
            var before = await world.SnapshotAsync(withChain: false);
            var response = await RawHttp.SendInTwoPartsAsync(world.Url, head, first, rest, TimeSpan.FromMilliseconds(500));
            if (new HostileCase(name, "POST", endpoint.Target) { Expected = [413] }.Judge(response) is { } wrong)
            {
                failures.Add($"{name}: {wrong}");
            }
            if (!(await world.SnapshotAsync(withChain: false)).Equals(before))
            {
                failures.Add($"{name}: changed state");
            }
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Random_mutations_of_valid_bodies_never_fail_the_server_and_refusals_change_nothing()
    {
        var (world, cases, runner) = await StartAsync();
        // Jobs of their own: a mutation that is still valid may complete, fail or start them.
        var (_, complete) = await HeldRunningJobAsync(world);
        var (_, fail) = await HeldRunningJobAsync(world);
        var (assignedId, _) = await HeldRunningJobAsync(world, start: false);
        // A miner key of its own: a mutation that is still valid registers it, which must not touch the world's miners.
        using var admin = world.Coordinator.Http(RunningCoordinator.AdminKey);
        var minerD = await CoordinatorFixture.CreateKeyAsync(admin, new { role = "miner", miner_pub_key = Aitbc.Core.Crypto.Ed25519KeyPair.Generate().PublicKey.Base64 });
        var registration = JsonSerializer.Serialize(new MinerRegistration("http://127.0.0.1:9/", [HostileWorld.UnservedModel], 1, "1"), RestJson.Options);
        var targets = new (string Name, string Target, Who Who, string Body)[]
        {
            ("submit", "/v1/jobs", Who.ClientA, cases.SubmitBody),
            ("register", "/v1/miners/register", Who.Nobody, registration),
            ("heartbeat", "/v1/miners/heartbeat", Who.MinerA, HostileCases.HeartbeatBody),
            ("status", $"/v1/jobs/{assignedId}/status", Who.MinerA, HostileCases.StatusBody),
            ("complete", $"/v1/jobs/{complete.JobId}/complete", Who.MinerA, JsonSerializer.Serialize(world.MinerA.Completion(complete), RestJson.Options)),
            ("fail", $"/v1/jobs/{fail.JobId}/fail", Who.MinerA, HostileCases.FailBody),
            ("admin keys", "/v1/admin/keys", Who.Admin, cases.KeyBody),
        };
        var seed = 20261129UL;
        var accepted = 0;
        foreach (var (name, target, who, body) in targets)
        {
            foreach (var mutation in HostileJson.Sample(body, 40, seed++))
            {
                var response = await runner.RunOneAsync(new HostileCase($"{name} mutation {mutation}", "POST", target)
                {
                    Headers = name == "register" ? [$"X-Miner-Key: {minerD}"] : cases.Key(who),
                    Body = mutation.Body,
                    Expected = [400, 404, 409, 413, 422],
                    MayChangeState = true,
                });
                accepted += response is { Status: < 300 } ? 1 : 0;
            }
        }
        output.WriteLine($"{accepted} mutations were still valid and accepted");
        runner.AssertAll("random mutations of valid bodies");
    }

    private static async Task<(string JobId, JobAssignment Assignment)> HeldRunningJobAsync(HostileWorld world, bool start = true)
    {
        var jobId = await world.ClientA.SubmitOkAsync(Bodies.Flat(prompt: "mutations " + Guid.NewGuid(), model: HostileWorld.HeldModel, maxPrice: "1"));
        var assignment = await world.MinerA.NextAssignmentAsync(30_000);
        Assert.Equal(jobId, assignment.JobId);
        if (start)
        {
            using var started = await world.MinerA.StatusAsync(jobId);
            Assert.True(started.IsSuccessStatusCode);
        }
        await world.QuiesceAsync();
        return (jobId, assignment);
    }
}
