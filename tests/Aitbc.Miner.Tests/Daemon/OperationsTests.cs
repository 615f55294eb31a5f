using System.Net;
using Aitbc.Client.Miner;
using Aitbc.Miner.Tests.Infrastructure;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class OperationsTests
{
    [Fact]
    public async Task Metrics_count_jobs_by_outcome_and_compute_seconds_and_the_log_holds_no_prompt_or_key()
    {
        var dir = TempDir.Create("miner-ops");
        try
        {
            await using var coordinator = await FakeCoordinator.StartNewAsync();
            var options = TestMiner.Options(coordinator.Url, dir);
            await using var miner = await TestMiner.StartAsync(options);
            using var client = MinerClient.Create();
            using var http = new HttpClient { BaseAddress = miner.Url };
            const string secretPrompt = "the secret prompt 8f3a";

            Assert.True((await client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-m", prompt: secretPrompt))).Accepted);
            Assert.Equal(HttpStatusCode.Conflict, (await client.AssignAsync(miner.Url, coordinator.AssignKey, TestMiner.Assignment("job-x", "nope"))).Status);
            await Poll.UntilAsync(() => Task.FromResult(coordinator.CallsOf("complete").Any()));

            var metrics = await http.GetStringAsync("metrics");
            Assert.Contains("aitbc_miner_jobs_total{outcome=\"completed\"} 1", metrics);
            Assert.Contains("aitbc_miner_assignments_refused_total{reason=\"unknown_model\"} 1", metrics);
            Assert.Contains("aitbc_miner_compute_seconds_sold_total 0.001", metrics);
            Assert.Contains("aitbc_miner_tokens_per_second_count 1", metrics);
            Assert.Contains("aitbc_miner_backend_latency_seconds_count{outcome=\"ok\"} 1", metrics);
            Assert.Contains("aitbc_miner_jobs_in_flight 0", metrics);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("readyz")).StatusCode);

            var log = TestMiner.Log(options);
            Assert.Contains("job job-m", log);
            Assert.DoesNotContain(secretPrompt, log);
            Assert.DoesNotContain(coordinator.AssignKey, log);
            Assert.DoesNotContain(TestMiner.MinerApiKey, log);
        }
        finally
        {
            TempDir.Delete(dir);
        }
    }
}
