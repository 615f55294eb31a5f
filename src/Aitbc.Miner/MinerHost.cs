using Aitbc.Client.Coordinator;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Miner.Backends;
using Aitbc.Miner.Coordinator;
using Aitbc.Miner.Gpu;
using Aitbc.Miner.Jobs;
using Aitbc.Miner.Outbox;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner;

/// <summary>
/// The miner daemon as a web host (used by aitbc-miner, by <c>aitbc up</c> and by tests): the assignment endpoint,
/// registration and heartbeats, the job runner and the outbox worker. Build, <see cref="StartAsync"/>, then read
/// <see cref="Url"/> (the actual port when <see cref="MinerOptions.Port"/> is 0).
/// </summary>
public sealed class MinerHost : IAsyncDisposable
{
    private readonly List<IDisposable> _owned;
    private bool _started;
    private bool _disposed;

    private MinerHost(WebApplication app, Ed25519PublicKey publicKey, MinerSession session, List<IDisposable> owned)
    {
        App = app;
        PublicKey = publicKey;
        Session = session;
        _owned = owned;
    }

    /// <summary>The underlying web application (its services, lifetime and configuration).</summary>
    public WebApplication App { get; }

    /// <summary>The miner key's public half: the coordinator and the chain check proofs against it.</summary>
    public Ed25519PublicKey PublicKey { get; }

    /// <summary>The miner's on-chain address (its key's), which stakes and is paid.</summary>
    public Address Address => PublicKey.Address;

    /// <summary>Whether the coordinator has this miner registered now (also <c>/readyz</c>).</summary>
    public bool Registered => Session.Registered;

    internal MinerSession Session { get; }

    /// <summary>The URL the server listens on, e.g. <c>http://127.0.0.1:8010/</c>; available after <see cref="StartAsync"/>.</summary>
    public Uri Url
    {
        get
        {
            var address = App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new InvalidOperationException("the miner is not listening yet: call StartAsync first");
            return new Uri(address.TrimEnd('/') + "/");
        }
    }

    /// <summary>Builds the host: validates the options, loads or creates the miner key, opens the outbox and the backend.</summary>
    public static Task<MinerHost> BuildAsync(MinerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        cancellationToken.ThrowIfCancellationRequested();
        options.Validate();
        var metrics = new MinerMetrics();
        var defaults = new ServiceDefaultsOptions
        {
            ServiceName = "aitbc-miner",
            ActivitySourceName = MinerTracing.Source.Name,
            Host = options.Host,
            Port = options.Port,
            Tls = options.Tls,
            MaxRequestBodyBytes = options.MaxRequestBodyBytes,
            LogDirectory = options.EffectiveLogDirectory,
            LogFileName = "miner.log",
            LogToConsole = options.LogToConsole,
            Metrics = metrics.Registry,
        };
        var logger = ServiceLog.Create(defaults);
        var owned = new List<IDisposable>();
        try
        {
            var key = options.MinerKey;
            if (key is null)
            {
                key = KeyFile.LoadOrCreate(options.EffectiveMinerKeyPath);
                owned.Add(key);
            }
            var store = new OutboxStore(options.OutboxPath);
            owned.Add(store);
            var gpu = options.Gpu ?? GpuMonitor.Detect();
            var coordinator = CoordinatorClient.Create(options.CoordinatorUrl, options.MinerApiKey, options.CoordinatorRetry, options.Time, asMiner: true);
            owned.Add(coordinator);
            var node = NodeClient.Create(options.NodeUrl, new RetryOptions { MaxRetries = 1, AttemptTimeout = TimeSpan.FromSeconds(30) }, options.Time);
            owned.Add(node);

            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.AddServiceDefaults(defaults, logger).AddReadinessCheck<RegistrationReadiness>("registration");
            builder.Services.AddProblemDetails();
            builder.Services.ConfigureHttpJsonOptions(json =>
            {
                json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
                json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
            });
            var backend = options.BackendInstance;
            if (backend is null)
            {
                backend = BackendFactory.Create(options.Backend, options.Time, new Serilog.Extensions.Logging.SerilogLoggerFactory(logger).CreateLogger("Aitbc.Miner.Backends"));
                if (backend is IDisposable disposable)
                {
                    owned.Add(disposable);
                }
            }
            var session = new MinerSession();
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(options.Time);
            builder.Services.AddSingleton(key);
            builder.Services.AddSingleton(backend);
            builder.Services.AddSingleton(gpu);
            builder.Services.AddSingleton(store);
            builder.Services.AddSingleton(coordinator);
            builder.Services.AddSingleton(node);
            builder.Services.AddSingleton(session);
            builder.Services.AddSingleton(metrics);
            builder.Services.AddSingleton(sp => new Outbox.Outbox(store, options.Time));
            builder.Services.AddSingleton<JobService>();
            // Stopped in reverse order: the jobs first (they write their last messages), then the worker, then registration.
            builder.Services.AddHostedService<RegistrationService>();
            builder.Services.AddHostedService<OutboxWorker>();
            builder.Services.AddHostedService(sp => sp.GetRequiredService<JobService>());

            var app = builder.Build();
            app.UseExceptionHandler();
            app.UseStatusCodePages();
            app.UseServiceDefaults();
            app.MapServiceDefaults();
            app.MapAssignEndpoint();
            logger.Information("miner {Address} for coordinator {Coordinator}, backend {Backend}, capacity {Capacity}, price {Price} AITBC/s, GPU {Gpu}, data in {DataDir}",
                key.Address, options.CoordinatorUrl, options.BackendInstance is null ? options.Backend.Kind.ToString() : backend.GetType().Name,
                options.Capacity, options.PricePerSecond.ToAitbcString(), gpu.Available ? "nvidia-smi" : "none", options.DataDirectory);
            return Task.FromResult(new MinerHost(app, key.PublicKey, session, owned));
        }
        catch
        {
            foreach (var item in Enumerable.Reverse(owned))
            {
                item.Dispose();
            }
            logger.Dispose();
            throw;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _started = true;
        await App.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops serving: running jobs are cancelled and report <c>fail</c> to the outbox; undelivered messages stay there.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        _started = false;
        await App.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled or the process is told to stop.</summary>
    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.WaitForShutdownAsync(App, cancellationToken).ConfigureAwait(false);
        _started = false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_started)
        {
            // Disposing alone would not stop the jobs, which would then write to a closed outbox.
            await StopAsync().ConfigureAwait(false);
        }
        await App.DisposeAsync().ConfigureAwait(false);
        foreach (var item in Enumerable.Reverse(_owned))
        {
            item.Dispose();
        }
    }
}
