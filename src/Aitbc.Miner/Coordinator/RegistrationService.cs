using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.Contracts.Coordinator;
using Aitbc.Core.Crypto;
using Aitbc.Core.Transactions;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Gpu;
using Aitbc.Miner.Jobs;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Polly;

namespace Aitbc.Miner.Coordinator;

/// <summary>
/// Keeps the miner known: on chain (sends <c>register_miner</c> with the configured stake when the chain has no record of
/// the miner's key) and at the coordinator (registers once the server listens, retrying with backoff while the
/// coordinator is down, then heartbeats; registers again when a heartbeat says it is no longer registered).
/// </summary>
internal sealed class RegistrationService(
    MinerOptions options,
    MinerSession session,
    CoordinatorClient coordinator,
    NodeClient node,
    Ed25519KeyPair minerKey,
    IInferenceBackend backend,
    GpuMonitor gpu,
    JobService jobs,
    MinerMetrics metrics,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<RegistrationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken).ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(EnsureOnChainAsync(stoppingToken), StayRegisteredAsync(Endpoint(), stoppingToken)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>The URL the coordinator pushes assignments to: configured, or this server's own address.</summary>
    private Uri Endpoint()
    {
        if (options.PublicEndpoint is { } configured)
        {
            return configured;
        }
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the server has no address to register");
        var url = new UriBuilder(address);
        if (url.Host is "0.0.0.0" or "[::]" or "::")
        {
            url.Host = "127.0.0.1";
        }
        return new Uri(url.Uri.GetLeftPart(UriPartial.Authority) + "/");
    }

    private async Task EnsureOnChainAsync(CancellationToken cancellationToken)
    {
        if (!options.RegisterOnChain)
        {
            return;
        }
        var address = minerKey.Address;
        TxSender? sender = null;
        var attempt = 0;
        await Retry().ExecuteAsync(async token =>
        {
            attempt++;
            try
            {
                if (await node.GetMinerAsync(address, token).ConfigureAwait(false) is { } known)
                {
                    logger.LogInformation("miner {Address} is on chain with stake {Stake}", address, known.Stake);
                    return true;
                }
                sender ??= await TxSender.CreateAsync(node, minerKey, token).ConfigureAwait(false);
                var result = await sender.SendAndCommitAsync(new RegisterMinerBody(options.Stake), token).ConfigureAwait(false);
                if (result.IsOk || result.Code == TxCode.AlreadyExists)
                {
                    logger.LogInformation("registered miner {Address} on chain with stake {Stake} (tx {Hash}, height {Height})", address, options.Stake, result.Hash, result.Height);
                    return true;
                }
                if (result.Code == TxCode.InsufficientFunds)
                {
                    logger.LogError("cannot register on chain: account {Address} lacks funds for the stake of {Stake}; send it AITBC (`aitbc wallet send {Address} ...`), retrying",
                        address, options.Stake, address);
                }
                else
                {
                    logger.LogError("register_miner refused by the chain: {Code} {Log}; retrying", result.Code, result.CheckTx.IsOk ? result.TxResult.Log : result.CheckTx.Log);
                }
            }
            catch (NodeClientException e)
            {
                if (attempt == 1 || attempt % 10 == 0)
                {
                    logger.LogWarning("cannot check the miner's registration at the node {NodeUrl} (attempt {Attempt}): {Error}", options.NodeUrl, attempt, e.Message);
                }
            }
            return false;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task StayRegisteredAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var interval = options.HeartbeatInterval;
        var retry = Retry();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!session.Registered)
            {
                var attempt = 0;
                await retry.ExecuteAsync(async token =>
                {
                    attempt++;
                    try
                    {
                        interval = await RegisterAsync(endpoint, token).ConfigureAwait(false);
                        return true;
                    }
                    catch (Exception e) when (e is not OperationCanceledException || !token.IsCancellationRequested)
                    {
                        if (attempt == 1 || attempt % 10 == 0)
                        {
                            logger.LogWarning("registration with {Coordinator} failed (attempt {Attempt}): {Error}", options.CoordinatorUrl, attempt, e.Message);
                        }
                        return false;
                    }
                }, cancellationToken).ConfigureAwait(false);
            }
            await Task.Delay(interval, options.Time, cancellationToken).ConfigureAwait(false);
            await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TimeSpan> RegisterAsync(Uri endpoint, CancellationToken cancellationToken)
    {
        var models = await backend.ListModelsAsync(cancellationToken).ConfigureAwait(false);
        var sample = await gpu.SampleAsync(cancellationToken).ConfigureAwait(false);
        var gpuDescription = sample is { Devices.Count: > 0 }
            ? new GpuDescription(sample.Devices.All(d => d.Name == sample.Devices[0].Name) ? sample.Devices[0].Name : sample.Description,
                sample.Devices[0].MemoryTotalMiB, sample.Devices.Count)
            : null;
        var registered = await coordinator.RegisterMinerAsync(
            new MinerRegistration(endpoint.AbsoluteUri, models, options.Capacity, options.PricePerSecond.ToAitbcString(), gpuDescription),
            cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrEmpty(registered.AssignKey))
        {
            throw new InvalidDataException("the coordinator's registration answer has no assign_key");
        }
        session.SetRegistered(registered.MinerId, registered.AssignKey, models);
        metrics.Registered(true);
        var interval = registered.HeartbeatIntervalSeconds > 0 ? TimeSpan.FromSeconds(registered.HeartbeatIntervalSeconds) : options.HeartbeatInterval;
        logger.LogInformation("registered with {Coordinator} as {MinerId} at {Endpoint}: models {Models}, capacity {Capacity}, heartbeat every {Interval} s",
            options.CoordinatorUrl, registered.MinerId, endpoint, string.Join(", ", models), options.Capacity, interval.TotalSeconds);
        return interval;
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                session.SetModels(await backend.ListModelsAsync(cancellationToken).ConfigureAwait(false));
            }
            catch (InferenceException e)
            {
                logger.LogWarning("backend model list unavailable, offering the last known models: {Error}", e.Message);
            }
            var utilization = (await gpu.SampleAsync(cancellationToken).ConfigureAwait(false))?.UtilizationPercent;
            var ack = await coordinator.HeartbeatAsync(new MinerHeartbeat(session.Models, jobs.InFlight, utilization), cancellationToken).ConfigureAwait(false);
            if (!ack.Registered)
            {
                logger.LogWarning("the coordinator no longer knows this miner ({Status}); registering again", ack.Status);
                session.SetUnregistered();
                metrics.Registered(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("heartbeat to {Coordinator} failed: {Error}", options.CoordinatorUrl, e.Message);
        }
    }

    /// <summary>Runs an attempt again, with backoff and jitter on the miner's clock, until it returns true or the miner stops.</summary>
    private ResiliencePipeline<bool> Retry() =>
        RetryBackoff.Forever<bool>(options.RetryBaseDelay, options.RetryMaxDelay, options.Time, outcome => outcome.Exception is null && !outcome.Result);
}
