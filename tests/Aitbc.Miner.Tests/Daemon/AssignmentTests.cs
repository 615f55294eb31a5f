using System.Net;
using System.Text;
using System.Text.Json;
using Aitbc.Client.Http;
using Aitbc.Client.Miner;
using Aitbc.Contracts.Coordinator;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class AssignmentTests : IAsyncLifetime
{
    private readonly string _dir = TempDir.Create("miner-assign");
    private readonly StallingBackend _stalling = new();
    private readonly MinerClient _client = MinerClient.Create();
    private FakeCoordinator _coordinator = null!;
    private MinerHost _miner = null!;

    public async Task InitializeAsync()
    {
        _coordinator = await FakeCoordinator.StartNewAsync();
        _miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir, _stalling, capacity: 1));
    }

    public async Task DisposeAsync()
    {
        await _miner.DisposeAsync();
        await _coordinator.DisposeAsync();
        _client.Dispose();
        TempDir.Delete(_dir);
    }

    private Task<AssignOutcome> AssignAsync(JobAssignment job, string? key = null) =>
        _client.AssignAsync(_miner.Url, key ?? _coordinator.AssignKey, job);

    private async Task<HttpResponseMessage> PostRawAsync(string body, string? key)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_miner.Url, "v1/jobs/assign"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Add(CoordinatorHeaders.ApiKey, key);
        }
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task Without_the_assign_key_or_with_a_wrong_one_the_assignment_is_401()
    {
        var job = JsonSerializer.Serialize(TestMiner.Assignment("job-1", StallingBackend.Model), RestJson.Options);

        var none = await PostRawAsync(job, key: null);
        var wrong = await AssignAsync(TestMiner.Assignment("job-1", StallingBackend.Model), key: _coordinator.AssignKey + "x");

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal("application/problem+json", none.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Empty(_coordinator.CallsOf("status"));
    }

    [Fact]
    public async Task A_model_it_does_not_serve_is_409()
    {
        var outcome = await AssignAsync(TestMiner.Assignment("job-1", "llama3.2"));

        Assert.Equal(HttpStatusCode.Conflict, outcome.Status);
        Assert.Contains("llama3.2", outcome.Reason);
    }

    [Fact]
    public async Task A_deadline_already_passed_is_409()
    {
        var outcome = await AssignAsync(TestMiner.Assignment("job-1", StallingBackend.Model, deadlineIn: TimeSpan.FromSeconds(-1)));

        Assert.Equal(HttpStatusCode.Conflict, outcome.Status);
        Assert.Contains("deadline", outcome.Reason);
    }

    [Fact]
    public async Task A_job_it_cannot_generate_before_its_deadline_at_its_measured_speed_is_409()
    {
        var dir = TempDir.Create("miner-deadline");
        try
        {
            await using var coordinator = await FakeCoordinator.StartNewAsync();
            await using var miner = await TestMiner.StartAsync(TestMiner.Options(coordinator.Url, dir, new InstantBackend()));
            var huge = new JobOptions(NumPredict: JobLimits.MaxNumPredict);
            // Before any job completed its speed is unknown: it takes the job.
            var first = await _client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-1", options: huge, deadlineIn: TimeSpan.FromSeconds(1)));
            Assert.True(first.Accepted, first.Reason);
            await coordinator.ArrivalAsync("complete", "job-1");

            // Measured: 3 tokens in 1 ms, 3,000 tokens/s; 8,192 tokens take 2.7 s, more than a 1 s deadline leaves.
            var tooShort = await _client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-2", options: huge, deadlineIn: TimeSpan.FromSeconds(1)));
            Assert.Equal(HttpStatusCode.Conflict, tooShort.Status);
            Assert.Contains("cannot generate 8192 tokens", tooShort.Reason);
            var enough = await _client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-3", options: huge, deadlineIn: TimeSpan.FromMinutes(1)));
            Assert.True(enough.Accepted, enough.Reason);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }

    [Fact]
    public async Task Accepts_with_202_then_a_second_job_beyond_capacity_is_503_and_a_repeated_id_is_409()
    {
        var first = await AssignAsync(TestMiner.Assignment("job-1", StallingBackend.Model));
        await _stalling.Called;

        var beyond = await AssignAsync(TestMiner.Assignment("job-2", StallingBackend.Model));
        var repeated = await AssignAsync(TestMiner.Assignment("job-1", StallingBackend.Model));

        Assert.True(first.Accepted);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, beyond.Status);
        Assert.Equal(HttpStatusCode.Conflict, repeated.Status);
        await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf("status").Any(c => c.JobId == "job-1")));
        Assert.Equal(JobStatus.Running, _coordinator.CallsOf("status").Single().Read<JobStatusUpdate>().Status);
        await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf("heartbeat").Any(c => c.Read<MinerHeartbeat>().InFlight == 1)));
    }

    [Fact]
    public async Task A_running_report_the_coordinator_failed_is_retried_until_it_is_delivered_while_the_job_runs()
    {
        _coordinator.Fault = CoordinatorFault.ServerError;
        Assert.True((await AssignAsync(TestMiner.Assignment("job-retried", StallingBackend.Model))).Accepted);
        await _stalling.Called;
        await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf("status").Count(c => c.JobId == "job-retried") >= 2));

        _coordinator.Fault = CoordinatorFault.None;

        var store = (Outbox.OutboxStore)_miner.App.Services.GetService(typeof(Outbox.OutboxStore))!;
        await Poll.UntilAsync(() => Task.FromResult(store.Count() == 0));
        Assert.All(_coordinator.Calls.Where(c => c.JobId == "job-retried"), c => Assert.Equal("status", c.Kind));
    }

    [Fact]
    public async Task Stopping_the_miner_cancels_a_running_job_which_reports_fail()
    {
        Assert.True((await AssignAsync(TestMiner.Assignment("job-cut", StallingBackend.Model))).Accepted);
        await _stalling.Called;

        await _miner.StopAsync();

        await _stalling.Cancelled.WaitAsync(TimeSpan.FromSeconds(5));
        var store = (Outbox.OutboxStore)_miner.App.Services.GetService(typeof(Outbox.OutboxStore))!;
        // Whatever the worker had not delivered before it stopped waits in the outbox for the next start.
        var delivered = _coordinator.CallsOf("fail").Where(c => c.JobId == "job-cut").Select(c => c.Read<JobFailure>().Error);
        var pending = store.Pending().Where(m => m.JobId == "job-cut" && m.Kind == Outbox.OutboxKind.Fail)
            .Select(m => JsonSerializer.Deserialize<JobFailure>(m.Body, RestJson.Options)!.Error);
        Assert.Equal("miner stopped before the job finished", Assert.Single(delivered.Concat(pending)));
    }

    [Fact]
    public async Task The_202_body_is_the_contracts_assignment_accepted()
    {
        var response = await PostRawAsync(JsonSerializer.Serialize(TestMiner.Assignment("job-9", StallingBackend.Model), RestJson.Options), _coordinator.AssignKey);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = JsonSerializer.Deserialize<AssignmentAccepted>(await response.Content.ReadAsStringAsync(), RestJson.Options);
        Assert.Equal(new AssignmentAccepted("job-9", "accepted"), body);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("null")]
    [InlineData("""{"job_id":"j","reward":"1","deadline":"2099-01-01T00:00:00Z"}""")]
    [InlineData("""{"job_id":"j","job_data":{"type":"inference","prompt":"p","model":"stall"},"reward":"1","deadline":"tomorrow"}""")]
    [InlineData("""{"job_id":"","job_data":{"type":"inference","prompt":"p","model":"stall"},"reward":"1","deadline":"2099-01-01T00:00:00Z"}""")]
    public async Task A_malformed_assignment_is_400(string body)
    {
        var response = await PostRawAsync(body, _coordinator.AssignKey);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
