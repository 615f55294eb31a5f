using Aitbc.Client.Miner;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Aitbc.Core.Proofs;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Tests.Backends;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class JobRunTests(TestModelFixture model, ITestOutputHelper output) : IAsyncLifetime, IClassFixture<TestModelFixture>
{
    private readonly string _dir = TempDir.Create("miner-jobs");
    private readonly MinerClient _client = MinerClient.Create();
    private FakeCoordinator _coordinator = null!;

    public async Task InitializeAsync() => _coordinator = await FakeCoordinator.StartNewAsync();

    public async Task DisposeAsync()
    {
        await _coordinator.DisposeAsync();
        _client.Dispose();
        TempDir.Delete(_dir);
    }

    private async Task<CoordinatorCall> RunAsync(MinerHost miner, JobAssignment job, string outcome = "complete")
    {
        var accepted = await _client.AssignAsync(miner.Url, _coordinator.AssignKey, job);
        Assert.True(accepted.Accepted, accepted.Reason);
        await Poll.UntilAsync(() => Task.FromResult(_coordinator.CallsOf(outcome).Any(c => c.JobId == job.JobId)), 15_000);
        return _coordinator.CallsOf(outcome).Single(c => c.JobId == job.JobId);
    }

    private static void AssertProofVerifies(JobCompletion completion, JobAssignment job, Ed25519PublicKey minerKey)
    {
        var proof = new MinerProof(job.JobId, job.JobData.Model, Hashing.ContentHash(job.JobData.Prompt), Hashing.ContentHash(completion.Result),
            completion.Metrics.ComputeTime, completion.Metrics.TokensGenerated);
        Assert.Equal(Hashing.ContentHash(completion.Result), completion.Proof.Hash);
        Assert.True(proof.Verify(minerKey, completion.Proof.Signature));
        Assert.False((proof with { TokensGenerated = proof.TokensGenerated + 1 }).Verify(minerKey, completion.Proof.Signature));
    }

    [Fact]
    public async Task Embedded_llama_cpp_generates_real_tokens_and_the_completion_carries_a_proof_the_core_verifier_accepts()
    {
        var options = TestMiner.Options(_coordinator.Url, _dir) with
        {
            BackendInstance = null,
            Backend = new BackendOptions { Kind = BackendKind.Embedded, ModelPath = model.ModelPath, ModelName = "tiny", Threads = 1 },
        };
        await using var miner = await TestMiner.StartAsync(options);
        var job = TestMiner.Assignment("job-embedded", "tiny", "hello world, the miner runs", new JobOptions(0.8, 24, 7));

        var completion = (await RunAsync(miner, job)).Read<JobCompletion>();

        Assert.Equal("job-embedded", completion.JobId);
        Assert.False(string.IsNullOrWhiteSpace(completion.Result));
        Assert.InRange(completion.Metrics.TokensGenerated, 1, 24);
        Assert.True(completion.Metrics.PromptTokens > 0);
        Assert.True(completion.Metrics.ComputeTime > 0);
        Assert.Null(completion.Metrics.GpuUtilization);
        AssertProofVerifies(completion, job, miner.PublicKey);
        // running, if it was sent before the completion replaced it in the outbox, was reported first.
        var calls = _coordinator.Calls.Where(c => c.JobId == job.JobId).Select(c => c.Kind).ToList();
        Assert.True(calls is ["status", "complete"] or ["complete"], string.Join(", ", calls));
        output.WriteLine($"embedded: {completion.Metrics.TokensGenerated} tokens in {completion.Metrics.ComputeTime * 1000:0.0} ms "
            + $"= {completion.Metrics.TokensGenerated / completion.Metrics.ComputeTime:0} tokens/s: {completion.Result}");
    }

    [Fact]
    public async Task Ollama_job_completes_with_its_text_metrics_and_proof_and_sends_the_jobs_options()
    {
        await using var ollama = await TestOllama.StartAsync();
        var options = TestMiner.Options(_coordinator.Url, _dir) with { BackendInstance = null, Backend = new BackendOptions { Url = ollama.Url } };
        await using var miner = await TestMiner.StartAsync(options);
        var job = TestMiner.Assignment("job-ollama", "llama3.2", "Say hello", new JobOptions(0.2, 3, 5));

        var completion = (await RunAsync(miner, job)).Read<JobCompletion>();

        Assert.Equal("Hello, miner", completion.Result);
        Assert.Equal(3, completion.Metrics.TokensGenerated);
        Assert.Equal(TestOllama.PromptEvalCount, completion.Metrics.PromptTokens);
        Assert.Equal(1.234568, completion.Metrics.ComputeTime);
        AssertProofVerifies(completion, job, miner.PublicKey);
        var request = ollama.Requests.Single();
        Assert.Equal("llama3.2:latest", request.GetProperty("model").GetString());
        Assert.Equal(0.2, request.GetProperty("options").GetProperty("temperature").GetDouble());
        Assert.Equal(3, request.GetProperty("options").GetProperty("num_predict").GetInt32());
    }

    [Theory]
    [InlineData(BackendFault.ServerError, FakeOllama.ServerErrorMessage)]
    [InlineData(BackendFault.MidStreamError, FakeOllama.MidStreamErrorMessage)]
    public async Task A_backend_error_is_reported_as_fail_with_the_backends_reason(BackendFault fault, string reason)
    {
        await using var ollama = await TestOllama.StartAsync();
        ollama.Fault = fault;
        var options = TestMiner.Options(_coordinator.Url, _dir) with { BackendInstance = null, Backend = new BackendOptions { Url = ollama.Url } };
        await using var miner = await TestMiner.StartAsync(options);

        var failure = (await RunAsync(miner, TestMiner.Assignment("job-broken", "llama3.2:latest"), "fail")).Read<JobFailure>();

        Assert.Contains(reason, failure.Error);
        Assert.Empty(_coordinator.CallsOf("complete"));
    }

    [Fact]
    public async Task OpenAi_compatible_job_completes_with_the_servers_answer_and_a_valid_proof()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await FakeOpenAiServer.StartNewAsync(time);
        var options = TestMiner.Options(_coordinator.Url, _dir) with
        {
            BackendInstance = null,
            Backend = new BackendOptions { Kind = BackendKind.OpenAi, Url = server.Url },
            Time = time,
        };
        await using var miner = await TestMiner.StartAsync(options);
        var job = TestMiner.Assignment("job-openai", "Qwen/Qwen2.5-0.5B-Instruct", "Why is the sky blue?", new JobOptions(0.1, 16));

        var completion = (await RunAsync(miner, job)).Read<JobCompletion>();

        Assert.Equal(FakeOpenAiServer.Answer, completion.Result);
        Assert.Equal(FakeOpenAiServer.PromptTokens, completion.Metrics.PromptTokens);
        Assert.Equal(FakeOpenAiServer.ComputeTime.TotalSeconds, completion.Metrics.ComputeTime);
        AssertProofVerifies(completion, job, miner.PublicKey);
    }

    [Fact]
    public async Task A_deadline_months_away_does_not_break_the_job()
    {
        await using var miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir));

        var completion = (await RunAsync(miner, TestMiner.Assignment("job-far", deadlineIn: TimeSpan.FromDays(400)))).Read<JobCompletion>();

        Assert.Equal("echo: hello", completion.Result);
    }

    [Fact]
    public async Task A_backend_that_throws_unexpectedly_still_reports_fail()
    {
        await using var miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir, new ThrowingBackend()));

        var failure = (await RunAsync(miner, TestMiner.Assignment("job-bug", ThrowingBackend.Model), "fail")).Read<JobFailure>();

        Assert.Equal("the backend has a bug", failure.Error);
    }

    [Fact]
    public async Task Ollama_gone_after_registration_fails_the_job_saying_it_is_unreachable()
    {
        var ollama = await TestOllama.StartAsync();
        var options = TestMiner.Options(_coordinator.Url, _dir) with { BackendInstance = null, Backend = new BackendOptions { Url = ollama.Url } };
        await using var miner = await TestMiner.StartAsync(options);
        await ollama.DisposeAsync();

        var failure = (await RunAsync(miner, TestMiner.Assignment("job-orphan", "llama3.2:latest"), "fail")).Read<JobFailure>();

        Assert.Contains("refused", failure.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_job_past_its_deadline_is_cancelled_at_the_backend_and_fails_with_deadline_exceeded()
    {
        await using var ollama = await TestOllama.StartAsync();
        ollama.Fault = BackendFault.Stall;
        var options = TestMiner.Options(_coordinator.Url, _dir) with { BackendInstance = null, Backend = new BackendOptions { Url = ollama.Url } };
        await using var miner = await TestMiner.StartAsync(options);

        var failure = (await RunAsync(miner, TestMiner.Assignment("job-slow", "llama3.2:latest", deadlineIn: TimeSpan.FromMilliseconds(800)), "fail")).Read<JobFailure>();

        Assert.Equal("deadline exceeded", failure.Error);
        await ollama.RequestAborted.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_completion_the_coordinator_refuses_with_409_is_dropped_and_a_500_is_retried_until_accepted()
    {
        await using var miner = await TestMiner.StartAsync(TestMiner.Options(_coordinator.Url, _dir));
        var store = miner.App.Services.GetService(typeof(Outbox.OutboxStore)) as Outbox.OutboxStore;

        _coordinator.Fault = CoordinatorFault.ConflictOnComplete;
        await RunAsync(miner, TestMiner.Assignment("job-decided"));
        await Poll.UntilAsync(() => Task.FromResult(store!.Count() == 0));

        _coordinator.Fault = CoordinatorFault.ServerError;
        var accepted = await _client.AssignAsync(miner.Url, _coordinator.AssignKey, TestMiner.Assignment("job-retried"));
        Assert.True(accepted.Accepted);
        await Poll.UntilAsync(() => Task.FromResult(_coordinator.Calls.Count(c => c.JobId == "job-retried") >= 3));
        _coordinator.Fault = CoordinatorFault.None;
        await Poll.UntilAsync(() => Task.FromResult(store!.Count() == 0));

        Assert.Single(_coordinator.CallsOf("complete"), c => c.JobId == "job-decided");
        Assert.Contains(_coordinator.CallsOf("complete"), c => c.JobId == "job-retried");
    }
}
