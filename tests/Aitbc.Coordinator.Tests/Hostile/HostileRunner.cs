using Aitbc.Testing.Hostile;
using Xunit.Abstractions;

namespace Aitbc.Coordinator.Tests.Hostile;

/// <summary>
/// Sends cases one at a time and checks each: the right status (never 5xx), a problem body for a refusal, the
/// coordinator still healthy, and for a refusal no change to any table (nor, for job and miner POSTs, to the chain).
/// Collects every failure, then fails once listing them all, and writes how many cases ran.
/// </summary>
public sealed class HostileRunner(HostileWorld world, ITestOutputHelper output)
{
    private readonly List<string> _failures = [];

    public int Ran { get; private set; }

    public async Task RunAsync(IEnumerable<HostileCase> cases)
    {
        foreach (var c in cases)
        {
            await RunOneAsync(c);
        }
    }

    /// <summary>Runs one case; returns its answer (null when there was none).</summary>
    public async Task<RawResponse?> RunOneAsync(HostileCase c)
    {
        Ran++;
        var withChain = c.Method == "POST" && c.Target.StartsWith("/v1/jobs", StringComparison.Ordinal);
        var before = await world.SnapshotAsync(withChain);
        RawResponse response;
        try
        {
            response = await c.SendAsync(world.Url);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or System.Net.Sockets.SocketException)
        {
            _failures.Add($"{c}: no answer ({e.Message})");
            return null;
        }
        if (c.Judge(response) is { } wrong)
        {
            _failures.Add($"{c}: {wrong}");
        }
        var health = await new HostileCase("healthz", "GET", "/healthz") { ContentType = null }.SendAsync(world.Url);
        if (health.Status != 200)
        {
            _failures.Add($"{c}: /healthz answered {health.Status} afterwards");
        }
        if (response.Status is >= 200 and < 300 && c.MayChangeState)
        {
            await world.QuiesceAsync();
            return response;
        }
        var after = await world.SnapshotAsync(withChain);
        if (!after.Equals(before))
        {
            _failures.Add($"{c}: answered {response.Status} but changed state: {before.Difference(after)}");
            // Later cases compare against the state as it now is.
            await world.QuiesceAsync();
        }
        return response;
    }

    /// <summary>Records a failure found outside a case's standard checks.</summary>
    public void Fail(string failure) => _failures.Add(failure);

    /// <summary>Writes the count and fails listing every wrong answer.</summary>
    public void AssertAll(string group)
    {
        output.WriteLine($"{group}: {Ran} cases ran, {_failures.Count} failed");
        foreach (var failure in _failures.Take(200))
        {
            output.WriteLine(failure);
        }
        Assert.True(_failures.Count == 0, $"{group}: {_failures.Count} of {Ran} cases failed:\n" + string.Join("\n", _failures.Take(60)));
    }
}
