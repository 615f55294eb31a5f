using System.Net;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Miner;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;
using Aitbc.Testing.Hostile;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Aitbc.Miner.Tests.Hostile;

/// <summary>
/// Hostile input on the miner daemon's endpoints (issue 8): <c>POST /v1/jobs/assign</c> with missing and wrong keys,
/// malformed, mistyped and oversized bodies; <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c> with wrong methods.
/// Each refusal must be the right 4xx with a problem body and leave the miner healthy, with no job taken, nothing in
/// its outbox and nothing reported to the coordinator; a valid job afterwards is still taken.
/// </summary>
public sealed class AssignHostileTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string JobId = "job_hostile";

    private readonly string _dir = TempDir.Create("miner-hostile");
    private readonly StallingBackend _stalling = new();
    private FakeCoordinator _coordinator = null!;
    private MinerHost _miner = null!;

    public async Task InitializeAsync()
    {
        _coordinator = await FakeCoordinator.StartNewAsync();
        _miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir, _stalling, capacity: 64));
    }

    public async Task DisposeAsync()
    {
        await _miner.DisposeAsync();
        await _coordinator.DisposeAsync();
        TempDir.Delete(_dir);
    }

    private static string Valid(string jobId) => JsonSerializer.Serialize(TestMiner.Assignment(jobId, StallingBackend.Model,
        options: new JobOptions(0.7, 100, 42), deadlineIn: TimeSpan.FromMinutes(10)), RestJson.Options);

    /// <summary>What a refused assignment must not have changed: jobs running, outbox messages, reports to the coordinator.</summary>
    private string Snapshot()
    {
        var jobs = _miner.App.Services.GetRequiredService<Miner.Jobs.JobService>();
        var outbox = _miner.App.Services.GetRequiredService<Outbox.OutboxStore>();
        var reports = _coordinator.Calls.Where(c => c.Kind is "status" or "complete" or "fail").Select(c => $"{c.Kind}:{c.JobId}");
        return $"in flight {jobs.InFlight}; outbox {string.Join(",", outbox.Pending().Select(m => $"{m.Kind}:{m.JobId}"))}; reports {string.Join(",", reports)}";
    }

    [Fact]
    public async Task Assign_refuses_every_hostile_request_and_still_takes_a_valid_job_after()
    {
        var key = $"{CoordinatorHeaders.ApiKey}: {_coordinator.AssignKey}";
        var valid = Valid(JobId);
        HostileCase Post(string name, string json, params int[] expected) =>
            new HostileCase(name, "POST", "/v1/jobs/assign") { Headers = [key], Expected = expected.Length == 0 ? [400] : expected }.WithJson(json);
        IEnumerable<HostileCase> Field(string path, IEnumerable<string?> values, params int[] expected) =>
            values.Select(v => Post($"{path} := {(v is null ? "(missing)" : HostileCase.Shorten(v))}", HostileJson.With(valid, path, v), expected));
        string[] notStrings = ["0", "-1", "1.5", "1e400", "true", "[]", "{}"];
        string[] notNumbers = ["\"1\"", "\"NaN\"", "\"Infinity\"", "true", "[]", "{}"];

        var table = new List<HostileCase>();
        foreach (var (name, headers) in new (string, string[])[]
        {
            ("no key", []),
            ("empty key", [$"{CoordinatorHeaders.ApiKey}: "]),
            ("wrong key", [$"{CoordinatorHeaders.ApiKey}: {_coordinator.AssignKey}x"]),
            ("key less a char", [$"{CoordinatorHeaders.ApiKey}: {_coordinator.AssignKey[..^1]}"]),
            ("the miner's own API key", [$"{CoordinatorHeaders.ApiKey}: {TestMiner.MinerApiKey}"]),
            ("key in X-Miner-Key", [$"{CoordinatorHeaders.MinerKey}: {_coordinator.AssignKey}"]),
            ("10k-char key", [$"{CoordinatorHeaders.ApiKey}: {new string('k', 10_000)}"]),
            ("garbage key first", [$"{CoordinatorHeaders.ApiKey}: nonsense", key]),
        })
        {
            table.Add(new HostileCase($"assign with {name}", "POST", "/v1/jobs/assign") { Headers = headers, Expected = [401] }.WithJson(valid));
        }
        table.Add(new HostileCase("assign with a Latin-1 byte in the key", "POST", "/v1/jobs/assign") { Headers = [key + "\u00e9"], Expected = [400, 401], ProtocolLevel = true }.WithJson(valid));
        foreach (var (name, body, contentType, expected) in HostileJson.MalformedBodies(valid))
        {
            table.Add(new HostileCase($"assign: {name}", "POST", "/v1/jobs/assign") { Headers = [key], Body = body, ContentType = contentType, Expected = expected });
        }
        table.AddRange(Field("job_id", [.. notStrings, "null", null, "\"\"", "\" \"", "\"../x\"", "\"a/b\"", "\"job.1\"", "\"job%2F1\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\ud83d\\ude00\"",
            $"\"{new string('j', 129)}\"", $"\"{new string('j', 10_000)}\""]));
        table.AddRange(Field("job_data", ["null", null, "\"x\"", "[]", "1", "{}"]));
        table.AddRange(Field("job_data.type", [.. notStrings, "null", null, "\"training\"", "\"\"", "\"INFERENCE\""]));
        table.AddRange(Field("job_data.prompt", [.. notStrings, "null", null]));
        table.AddRange(Field("job_data.model", [.. notStrings, "null", null, "\"\"", "\" \""]));
        table.AddRange(Field("job_data.model", ["\"llama3.2\"", "\"../stall\"", "\"STALL\"", "\"stall\\n\""], 409));
        table.AddRange(Field("job_data.options", ["\"x\"", "[]", "1", "{\"temperature\":\"0.5\"}"]));
        table.AddRange(Field("job_data.options.temperature", ["-0.1", "-1", "2.01", "1e400", "-1e400", .. notNumbers]));
        table.AddRange(Field("job_data.options.num_predict", ["0", "-1", "8193", "2147483648", "1.5", "1e400", .. notNumbers]));
        table.AddRange(Field("job_data.options.seed", ["1.5", "9223372036854775808", "18446744073709551616", "1e400", .. notNumbers]));
        table.AddRange(Field("reward", [.. notStrings, "null", null, "\"-1\"", "\"abc\"", "\"1e400\"", "\"NaN\"", "\"0.0000001\"", "\"18446744073709551616\"", "\"\""]));
        table.AddRange(Field("deadline", [.. notStrings, "null", null, "\"\"", "\"tomorrow\"", "\"9999-99-99T00:00:00Z\"", "\"\\ud800\"", $"\"{new string('9', 10_000)}\""]));
        table.AddRange(Field("deadline", ["\"2000-01-01T00:00:00Z\""], 409));
        var limit = TestMiner.Options(_coordinator.Url, _dir).MaxRequestBodyBytes;
        var padded = HostileJson.With(valid, "job_data.prompt", $"\"{new string('p', (int)limit)}\"");
        table.Add(Post("body over the limit", padded, 413));
        table.Add(new HostileCase("chunked body over the limit", "POST", "/v1/jobs/assign")
        {
            Headers = [key, "Transfer-Encoding: chunked"],
            ContentLength = false,
            Body = Encoding.ASCII.GetBytes($"{Encoding.UTF8.GetByteCount(padded):x}\r\n{padded}\r\n0\r\n\r\n"),
            Expected = [413],
        });
        table.Add(new HostileCase("Content-Length of 1 TB", "POST", "/v1/jobs/assign") { Headers = [key, "Content-Length: 1000000000000"], ContentLength = false, Expected = [413] }.WithJson(valid));
        table.Add(new HostileCase("negative Content-Length", "POST", "/v1/jobs/assign") { Headers = [key, "Content-Length: -1"], ContentLength = false, ProtocolLevel = true }.WithJson(valid));
        foreach (var (method, target) in new[] { ("GET", "/v1/jobs/assign"), ("PUT", "/v1/jobs/assign"), ("DELETE", "/v1/jobs/assign"), ("POST", "/healthz"), ("POST", "/readyz"),
            ("DELETE", "/metrics"), ("POST", "/metrics") })
        {
            table.Add(new HostileCase($"{method} {target}", method, target) { Headers = [key], ContentType = null, Expected = [405] });
        }
        foreach (var target in new[] { "/v1/jobs", "/v1/jobs/assign/x", "/..%2F..%2Fetc%2Fpasswd" })
        {
            table.Add(new HostileCase($"unknown route {target}", "POST", target) { Headers = [key], Expected = [404] }.WithJson(valid));
        }
        // Mutations that stay valid are taken (and stall): they carry another id, so the table's id stays unseen.
        foreach (var mutation in HostileJson.Sample(Valid("job_mutation"), 60, 20261129))
        {
            table.Add(new HostileCase($"mutation {mutation}", "POST", "/v1/jobs/assign") { Headers = [key], Body = mutation.Body, Expected = [400, 409, 413, 415], MayChangeState = true });
        }

        var failures = new List<string>();
        var accepted = 0;
        foreach (var c in table)
        {
            var before = Snapshot();
            var response = await c.SendAsync(_miner.Url);
            if (c.Judge(response) is { } wrong)
            {
                failures.Add($"{c}: {wrong}");
            }
            var health = await new HostileCase("healthz", "GET", "/healthz") { ContentType = null }.SendAsync(_miner.Url);
            if (health.Status != 200)
            {
                failures.Add($"{c}: /healthz answered {health.Status} afterwards");
            }
            if (response.Status == 202 && c.MayChangeState)
            {
                // Still a valid job: taken, it reports running on its own; let that land before the next snapshot.
                accepted++;
                var id = JsonDocument.Parse(response.Body).RootElement.GetProperty("job_id").GetString();
                var outbox = _miner.App.Services.GetRequiredService<Outbox.OutboxStore>();
                await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf("status").Any(call => call.JobId == id) && outbox.Pending().All(m => m.JobId != id)));
                continue;
            }
            if (Snapshot() is var after && after != before)
            {
                failures.Add($"{c}: answered {response.Status} but changed state: {before} -> {after}");
            }
        }

        // The refused assignments left no trace: the same job id is still new to the miner.
        var taken = await new HostileCase("valid job after", "POST", "/v1/jobs/assign") { Headers = [key], Expected = [202] }.WithJson(valid).SendAsync(_miner.Url);
        if (taken.Status != 202)
        {
            failures.Add($"the valid job after the hostile ones was answered {taken.Status}: {taken.Text}");
        }
        output.WriteLine($"POST /v1/jobs/assign, /healthz, /readyz, /metrics: {table.Count + 1} cases ran, {failures.Count} failed, {accepted} mutations still valid");
        foreach (var failure in failures)
        {
            output.WriteLine(failure);
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {table.Count + 1} cases failed:\n" + string.Join("\n", failures.Take(60)));
    }

    [Fact]
    public async Task An_endless_assignment_body_is_refused_413_as_it_streams()
    {
        var limit = TestMiner.Options(_coordinator.Url, _dir).MaxRequestBodyBytes;
        foreach (var chunked in new[] { true, false })
        {
            var head = RawHttp.Head(_miner.Url, "POST", "/v1/jobs/assign",
                [$"{CoordinatorHeaders.ApiKey}: {_coordinator.AssignKey}", "Content-Type: application/json", chunked ? "Transfer-Encoding: chunked" : "Content-Length: 1000000000"]);

            var (response, sent) = await RawHttp.StreamUntilAnsweredAsync(_miner.Url, head, chunked, maxBytes: 256L * 1024 * 1024);

            Assert.NotNull(response);
            Assert.Equal((int)HttpStatusCode.RequestEntityTooLarge, response.Status);
            Assert.Null(HostileCase.ProblemError(response));
            // Socket buffers take a few MiB before the answer is seen; a miner reading it all would take all 256 MiB.
            Assert.True(sent < 64L * 1024 * 1024, $"answered after {sent} bytes (limit {limit})");
            Assert.Equal(0, _miner.App.Services.GetRequiredService<Miner.Jobs.JobService>().InFlight);
        }
    }
}
