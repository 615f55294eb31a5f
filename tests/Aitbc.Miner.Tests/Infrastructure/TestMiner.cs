using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Gpu;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Infrastructure;

/// <summary>Builds miners for tests: port 0, a temp data dir, no GPU, no chain, fast retries.</summary>
public static class TestMiner
{
    public const string MinerApiKey = "miner-api-key-for-tests";

    public static MinerOptions Options(Uri coordinator, string dataDir, IInferenceBackend? backend = null, int capacity = 2) => new()
    {
        Port = 0,
        DataDirectory = dataDir,
        CoordinatorUrl = coordinator,
        MinerApiKey = MinerApiKey,
        BackendInstance = backend ?? new InstantBackend(),
        Capacity = capacity,
        RegisterOnChain = false,
        LogToConsole = false,
        Gpu = new GpuMonitor(null),
        HeartbeatInterval = TimeSpan.FromMilliseconds(200),
        RetryBaseDelay = TimeSpan.FromMilliseconds(50),
        RetryMaxDelay = TimeSpan.FromMilliseconds(200),
        OutboxBaseBackoff = TimeSpan.FromMilliseconds(20),
        OutboxMaxBackoff = TimeSpan.FromMilliseconds(200),
        CoordinatorAttemptTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Builds and starts a miner; waits until the coordinator has it registered unless told not to.</summary>
    public static async Task<MinerHost> StartAsync(MinerOptions options, bool waitForRegistration = true)
    {
        var miner = await MinerHost.BuildAsync(options);
        await miner.StartAsync();
        if (waitForRegistration)
        {
            try
            {
                await Poll.UntilAsync(() => Task.FromResult(miner.Registered));
            }
            catch (TimeoutException e)
            {
                await miner.DisposeAsync();
                throw new TimeoutException("the miner did not register; its log:\n" + Log(options), e);
            }
        }
        return miner;
    }

    /// <summary>The miner's log so far (it may still be open for writing).</summary>
    public static string Log(MinerOptions options)
    {
        var path = Path.Combine(options.EffectiveLogDirectory, "miner.log");
        if (!File.Exists(path))
        {
            return "(no miner.log)";
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }

    public static JobAssignment Assignment(string jobId, string model = InstantBackend.Model, string prompt = "hello", JobOptions? options = null, TimeSpan? deadlineIn = null) =>
        new(jobId, new JobData("inference", prompt, model, options), "0.5",
            DateTimeOffset.UtcNow.Add(deadlineIn ?? TimeSpan.FromMinutes(1)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"));

    public static Ed25519PublicKey KeyOf(MinerHost miner) => miner.PublicKey;
}
