using System.Collections.Concurrent;
using Aitbc.Client.Coordinator;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;

namespace Aitbc.Faults.Tests;

/// <summary>What a load run saw: the jobs the coordinator accepted, and the submissions it refused for good.</summary>
public sealed record LoadResult(IReadOnlyList<string> Accepted, int Refused, int Unresolved);

/// <summary>
/// A steady load of jobs: a few clients, each submitting through <see cref="CoordinatorClient"/> one job after another
/// with a short random pause, for a fixed time. A submission that fails at the transport (or with a 5xx, after the
/// client's own retries) is sent again with the same Idempotency-Key until the coordinator answers it, as a user
/// retrying the real client would: so a job is "accepted" exactly when the coordinator said 201 for its key.
/// </summary>
public sealed class LoadDriver(FaultNetwork net, int seed)
{
    public const int Clients = 3;
    public const int TtlSeconds = 8;
    public const string MaxPrice = "0.05";

    /// <summary>How long one submission is retried after the load stops before it counts as unresolved.</summary>
    public static readonly TimeSpan ResolveTimeout = TimeSpan.FromSeconds(90);

    public async Task<LoadResult> RunAsync(TimeSpan duration)
    {
        var accepted = new ConcurrentQueue<string>();
        var refused = 0;
        var unresolved = 0;
        var stopAt = DateTime.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(seed * 31 + c);
            using var api = net.ClientApi(c);
            for (var n = 0; DateTime.UtcNow < stopAt; n++)
            {
                var job = new JobSubmission("inference", $"fault load {seed}/{c}/{n}", NetworkOllama.QuickModel, MaxPrice: MaxPrice, TtlSeconds: TtlSeconds);
                var (jobId, answered) = await SubmitAsync(api, job, Guid.NewGuid().ToString("N"));
                if (jobId is not null)
                {
                    accepted.Enqueue(jobId);
                    net.AcceptedEver[jobId] = true;
                }
                else
                {
                    Interlocked.Increment(ref answered ? ref refused : ref unresolved);
                }
                await Task.Delay(random.Next(100, 300));
            }
        })));
        return new LoadResult([.. accepted], refused, unresolved);
    }

    /// <summary>The job id once the coordinator answers 201 for <paramref name="key"/>; none when it refused it (answered) or never answered.</summary>
    private static async Task<(string? JobId, bool Answered)> SubmitAsync(CoordinatorClient api, JobSubmission job, string key)
    {
        var giveUpAt = DateTime.UtcNow + ResolveTimeout;
        while (true)
        {
            try
            {
                return ((await api.SubmitJobAsync(job, key)).JobId, true);
            }
            catch (RestApiException e) when ((int)e.StatusCode is >= 400 and < 500 and not 408 and not 429)
            {
                return (null, true);
            }
            catch (RestClientException) when (DateTime.UtcNow < giveUpAt)
            {
                // Unreachable, or 5xx through every retry: whether it was stored is unknown, so ask again with the same key.
                await Task.Delay(200);
            }
            catch (RestClientException)
            {
                return (null, false);
            }
        }
    }
}
