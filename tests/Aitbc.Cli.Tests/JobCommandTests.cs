using Aitbc.Cli.Tests.Infrastructure;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Cli.Tests;

/// <summary><c>aitbc submit|status|jobs|ai</c> against a fake coordinator at the HTTP boundary.</summary>
public sealed class JobCommandTests : IAsyncLifetime
{
    private const string Step12 = """
        Job ID: job_1
        Status: completed
        Result: Machine learning is a subset of artificial intelligence...
        Receipt: receipt_789
        Completed in: 17 seconds
        Cost: 0.25 AITBC

        """;

    private FakeCoordinator _fake = null!;
    private CliHarness _cli = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakeCoordinator.StartAsync();
        _cli = new CliHarness(null, _fake.Url, FakeCoordinator.ClientKey);
    }

    public async Task DisposeAsync()
    {
        _cli.Dispose();
        await _fake.DisposeAsync();
    }

    private static JobView Running(string id) => FakeCoordinator.Pending(id) with { Status = JobStatus.Running, StartedAt = "2025-01-29T14:50:05.000Z", Miner = "aitbc1miner" };

    private Task<CliResult> Submit(params string[] extra) =>
        _cli.RunAsync(["submit", "inference", "--prompt", "What is machine learning?", "--model", "llama3.2:latest", .. extra]);

    [Fact]
    public async Task Submit_prints_the_job_id_and_its_status()
    {
        var result = await Submit();

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Job ID: job_1\nStatus: pending\n", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("aitbc status job_1 --wait", result.Stdout);
        Assert.Equal("", result.Stderr);
        Assert.Equal(1, _fake.JobsCreated);
    }

    [Fact]
    public async Task Submit_sends_the_seed_body_with_its_options()
    {
        var result = await Submit("--temperature", "0.7", "--max-tokens", "64", "--seed", "42", "--budget", "0.5", "--ttl", "120");

        Assert.Equal(0, result.ExitCode);
        var sent = Assert.Single(_fake.Submissions);
        Assert.Equal(new JobSubmission("inference", "What is machine learning?", "llama3.2:latest", new JobOptions(0.7, 64, 42), "0.5", 120), sent);
    }

    [Fact]
    public async Task Submit_json_is_the_accepted_record()
    {
        var json = (await Submit("--output", "json")).Json();

        Assert.Equal(["job_id", "status", "submitted_at"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("job_1", json.GetProperty("job_id").GetString());
        Assert.Equal("pending", json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Submit_wait_prints_the_seeds_step_12_exactly()
    {
        _fake.PlanNewJobs = id => [Running(id), FakeCoordinator.Completed(id)];

        var result = await Submit("--wait");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Step12, result.Stdout);
        Assert.Equal("", result.Stderr);
    }

    [Fact]
    public async Task Ai_submit_is_the_same_command()
    {
        _fake.PlanNewJobs = id => [FakeCoordinator.Completed(id)];

        var result = await _cli.RunAsync("ai", "submit", "inference", "--prompt", "What is machine learning?", "--model", "llama3.2:latest", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Step12, result.Stdout);
    }

    [Fact]
    public async Task Status_of_a_completed_job_prints_step_12_and_ai_status_prints_the_same()
    {
        _fake.AddJob(FakeCoordinator.Completed("job_1"));

        var status = await _cli.RunAsync("status", "job_1");
        var ai = await _cli.RunAsync("ai", "status", "job_1");

        Assert.Equal(0, status.ExitCode);
        Assert.Equal(Step12, status.Stdout);
        Assert.Equal(status, ai);
    }

    [Fact]
    public async Task Status_wait_follows_the_job_until_it_completes()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_1"), Running("job_1"), Running("job_1"), FakeCoordinator.Completed("job_1"));

        var result = await _cli.RunAsync("status", "job_1", "--wait");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(Step12, result.Stdout);
    }

    [Fact]
    public async Task Status_of_an_unfinished_job_says_how_to_wait_for_it()
    {
        _fake.AddJob(Running("job_5"));

        var result = await _cli.RunAsync("status", "job_5");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("running", result.Stdout);
        Assert.Contains("aitbc status job_5 --wait", result.Stdout);
    }

    [Fact]
    public async Task Status_json_is_the_job_record()
    {
        _fake.AddJob(FakeCoordinator.Completed("job_1"));

        var json = (await _cli.RunAsync("status", "job_1", "--output", "json")).Json();

        Assert.Equal("completed", json.GetProperty("status").GetString());
        Assert.Equal("receipt_789", json.GetProperty("receipt_id").GetString());
        Assert.Equal("0.25", json.GetProperty("cost").GetString());
        Assert.Equal("2025-01-29T14:50:18.000Z", json.GetProperty("completed_at").GetString());
        Assert.Equal("Machine learning is a subset of artificial intelligence...", json.GetProperty("result").GetString());
    }

    [Fact]
    public async Task A_failed_job_exits_1_and_prints_its_error()
    {
        _fake.PlanNewJobs = id => [Running(id), FakeCoordinator.Pending(id) with { Status = JobStatus.Failed, Error = "model crashed: out of memory", CompletedAt = "2025-01-29T14:50:09.000Z" }];

        var result = await Submit("--wait");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("Status: failed", result.Stdout);
        Assert.Contains("Error: model crashed: out of memory", result.Stdout);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal("error: job job_1 failed: model crashed: out of memory; its escrowed budget is refunded", line);
    }

    [Fact]
    public async Task A_cancelled_job_exits_1()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_3") with { Status = JobStatus.Cancelled, Error = "cancelled by the client" });

        var result = await _cli.RunAsync("status", "job_3");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("job job_3 cancelled: cancelled by the client", result.Stderr);
    }

    [Fact]
    public async Task Jobs_list_shows_a_table_and_the_next_page()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(0, (await Submit()).ExitCode);
        }

        var first = await _cli.RunAsync("jobs", "list", "--limit", "2");
        var json = (await _cli.RunAsync("jobs", "list", "--limit", "2", "--cursor", "2", "--output", "json")).Json();

        Assert.Equal(0, first.ExitCode);
        Assert.Contains("JOB ID", first.Stdout);
        Assert.Contains("job_3", first.Stdout);
        Assert.Contains("job_2", first.Stdout);
        Assert.DoesNotContain("job_1 ", first.Stdout);
        Assert.Contains("aitbc jobs list --cursor 2", first.Stdout);
        Assert.Equal("job_1", Assert.Single(json.GetProperty("jobs").EnumerateArray()).GetProperty("job_id").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("next_cursor").ValueKind);
    }

    [Fact]
    public async Task Jobs_list_with_none_says_how_to_submit()
    {
        var result = await _cli.RunAsync("jobs", "list");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("aitbc submit inference", result.Stdout);
    }

    [Fact]
    public async Task Jobs_cancel_cancels_a_pending_job()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_7"));

        var result = await _cli.RunAsync("jobs", "cancel", "job_7", "--output", "json");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("cancelled", result.Json().GetProperty("status").GetString());
        Assert.Equal(JobStatus.Cancelled, _fake.Job("job_7").Status);
    }

    [Fact]
    public async Task Cancelling_a_running_job_is_a_409_exit_5_with_the_servers_detail()
    {
        _fake.AddJob(Running("job_8"));

        var result = await _cli.RunAsync("jobs", "cancel", "job_8");

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal("error: the coordinator refused the request (HTTP 409): job job_8 is running; only pending or assigned jobs can be cancelled", line);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404_exit_5()
    {
        var result = await _cli.RunAsync("status", "job_404");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("job job_404 not found", result.Stderr);
        Assert.Contains("aitbc jobs list", result.Stderr);
    }

    [Fact]
    public async Task Field_errors_are_printed_readably_with_exit_5()
    {
        var result = await _cli.RunAsync("submit", "inference", "--prompt", "hi", "--model", "no-such-model");

        Assert.Equal(5, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal("error: the coordinator refused the request (HTTP 400): the job is not valid: model: no online miner serves model no-such-model", line);
    }

    [Fact]
    public async Task A_budget_the_wallet_cannot_cover_is_a_402_that_says_to_approve()
    {
        var result = await Submit("--budget", "500");

        Assert.Equal(5, result.ExitCode);
        Assert.Contains("HTTP 402", result.Stderr);
        Assert.Contains("this job's budget is 500 AITBC", result.Stderr);
        Assert.Contains("aitbc wallet approve", result.Stderr);
    }

    [Fact]
    public async Task No_key_is_a_401_exit_4_naming_CLIENT_API_KEY()
    {
        _cli.Env.Remove("CLIENT_API_KEY");

        var result = await Submit();

        Assert.Equal(4, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("HTTP 401", line);
        Assert.Contains("no key is set", line);
        Assert.Contains("CLIENT_API_KEY", line);
        Assert.Equal(0, _fake.JobsCreated);
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_exit_4_and_api_key_overrides_the_environment()
    {
        var wrong = await _cli.RunAsync("status", "job_1", "--api-key", "not-a-key");

        Assert.Equal(4, wrong.ExitCode);
        Assert.Contains("the key was not accepted", wrong.Stderr);
        Assert.Contains("unknown API key", wrong.Stderr);
    }

    [Fact]
    public async Task A_server_that_fails_twice_then_succeeds_makes_exactly_one_job()
    {
        _fake.FailNext(2, Fault.Unavailable);

        var result = await Submit();

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("job_1", result.Stdout);
        Assert.Equal(1, _fake.JobsCreated);
        Assert.Equal(3, _fake.Requests);
    }

    [Fact]
    public async Task Connection_resets_are_retried()
    {
        _fake.FailNext(2, Fault.ResetBefore);

        var result = await Submit();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(1, _fake.JobsCreated);
        Assert.Equal(3, _fake.Requests);
    }

    [Fact]
    public async Task A_lost_answer_is_retried_with_the_same_idempotency_key_and_replayed()
    {
        _fake.FailNext(1, Fault.ResetAfter);

        var result = await Submit("--output", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("job_1", result.Json().GetProperty("job_id").GetString());
        Assert.Equal(1, _fake.JobsCreated);
        var keys = _fake.IdempotencyKeys.ToList();
        Assert.Equal(2, keys.Count);
        Assert.NotNull(keys[0]);
        Assert.Equal(keys[0], keys[1]);
    }

    [Fact]
    public async Task Resubmitting_with_the_same_idempotency_key_returns_the_first_job()
    {
        var first = await Submit("--idempotency-key", "nightly-42", "--output", "json");
        var again = await Submit("--idempotency-key", "nightly-42", "--output", "json");
        var other = await Submit("--idempotency-key", "nightly-43", "--output", "json");

        Assert.Equal("job_1", first.Json().GetProperty("job_id").GetString());
        Assert.Equal("job_1", again.Json().GetProperty("job_id").GetString());
        Assert.Equal("job_2", other.Json().GetProperty("job_id").GetString());
        Assert.Equal(2, _fake.JobsCreated);
    }

    [Fact]
    public async Task Each_plain_submission_is_a_new_job()
    {
        await Submit();
        await Submit();

        Assert.Equal(2, _fake.JobsCreated);
        Assert.Equal(2, _fake.IdempotencyKeys.Distinct().Count());
    }

    [Fact]
    public async Task A_429_is_retried_after_the_wait_its_Retry_After_asks_for()
    {
        _cli.Retry = _cli.Retry with { MaxRetryAfter = TimeSpan.FromSeconds(5) };
        _fake.FailNext(1, Fault.RateLimited);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var result = await Submit();

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {clock.Elapsed}");
        Assert.Equal(1, _fake.JobsCreated);
        Assert.Equal(2, _fake.Requests);
    }

    [Fact]
    public async Task Waiting_rides_out_a_coordinator_restart()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_1"), Running("job_1"), FakeCoordinator.Completed("job_1"));
        _fake.FailNext(2, Fault.ResetBefore);

        var result = await _cli.RunAsync("status", "job_1", "--wait");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Step12, result.Stdout);
    }

    [Fact]
    public async Task A_server_that_keeps_failing_exits_3_after_4_attempts()
    {
        _fake.FailNext(10, Fault.Unavailable);

        var result = await Submit();

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("kept failing (HTTP 503", line);
        Assert.Equal(4, _fake.Requests);
        Assert.Equal(0, _fake.JobsCreated);
    }

    [Fact]
    public async Task Rate_limiting_is_retried_then_exits_5_saying_when_to_try_again()
    {
        var result = await _cli.RunAsync("status", "job_1", "--api-key", FakeCoordinator.LimitedKey);

        Assert.Equal(5, result.ExitCode);
        Assert.Equal(4, _fake.Requests);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains("rate limiting this key (HTTP 429: rate limit of 10 requests per second exceeded); try again in 7 s", line);
    }

    [Fact]
    public async Task An_unreachable_coordinator_exits_3_and_says_what_to_check()
    {
        var url = $"http://127.0.0.1:{CliHarness.ClosedPort()}";

        var result = await _cli.RunAsync("status", "job_1", "--url", url);

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith($"error: cannot reach the coordinator at {url} after 4 attempts: ", line, StringComparison.Ordinal);
        Assert.Contains("AITBC_URL", line);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Theory]
    [InlineData("--budget", "lots")]
    [InlineData("--ttl", "0")]
    [InlineData("--max-tokens", "0")]
    [InlineData("--temperature", "warm")]
    public async Task Bad_submit_options_are_usage_errors(string option, string value)
    {
        var result = await Submit(option, value);

        Assert.Equal(2, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal(0, _fake.Requests);
    }

    [Fact]
    public async Task Submit_without_a_job_type_is_a_usage_error()
    {
        var result = await _cli.RunAsync("submit", "--prompt", "x");

        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Json_output_stays_clean_at_a_terminal_while_waiting()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_1"), Running("job_1"), FakeCoordinator.Completed("job_1"));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["status", "job_1", "--wait", "--output", "json"], stdout, stderr, _cli.Env, interactive: true, retry: _cli.Retry);

        Assert.Equal(0, code);
        Assert.Equal("completed", new CliResult(code, stdout.ToString(), "").Json().GetProperty("status").GetString());
        Assert.Equal("", stderr.ToString());
    }

    [Fact]
    public async Task At_a_terminal_text_waits_under_a_spinner_and_still_ends_with_step_12()
    {
        _fake.AddJob(FakeCoordinator.Pending("job_1"), Running("job_1"), FakeCoordinator.Completed("job_1"));
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["status", "job_1", "--wait"], stdout, stderr, _cli.Env, interactive: true, retry: _cli.Retry);

        Assert.Equal(0, code);
        Assert.Contains("Receipt: receipt_789", stdout.ToString());
        Assert.Contains("Cost: 0.25 AITBC", stdout.ToString());
    }
}
