using Aitbc.Client.Node;
using Aitbc.Coordinator.Admin;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Views;
using Aitbc.Core.Crypto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Serilog;
using Serilog.Events;

namespace Aitbc.Coordinator;

/// <summary>Builds the coordinator's web host from options: used by aitbc-coordinator, by <c>aitbc up</c> and by tests.</summary>
public static class CoordinatorHost
{
    public static WebApplication Build(CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Directory.CreateDirectory(options.ConfigDirectory);
        var logger = CreateLogger(options);
        var ownsKey = options.CoordinatorKey is null;
        var key = options.CoordinatorKey ?? KeyFile.LoadOrCreate(options.EffectiveCoordinatorKeyPath);
        CoordinatorStore? store = null;
        try
        {
            store = CoordinatorStore.Create(options.Database, options.DatabasePath);
            // Schema before serving: a coordinator that cannot migrate must not start.
            store.MigrateAsync(CancellationToken.None).GetAwaiter().GetResult();
            if (options.AdminKey is { } adminKey)
            {
                store.UpsertApiKeyAsync(new ApiKeyRecord(ApiKeys.BootstrapAdminId, Roles.Admin, ApiKeys.Hash(adminKey), null, null,
                    options.Time.GetUtcNow().ToUnixTimeMilliseconds()), CancellationToken.None).GetAwaiter().GetResult();
            }

            // Loaded before serving, so a missing or keyless certificate stops the start, naming the file.
            var certificate = options.Tls?.Load();
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
                kestrel.AddServerHeader = false;
                kestrel.Listen(System.Net.IPAddress.Parse(options.Host), options.Port, listen =>
                {
                    if (certificate is not null)
                    {
                        listen.UseHttps(certificate);
                    }
                });
            });
            builder.Logging.ClearProviders();
            builder.Services.AddSerilog(logger, dispose: true);
            builder.Services.ConfigureHttpJsonOptions(json => Contracts.ContractJson.ApplyServerRules(json.SerializerOptions));
            builder.Services.AddProblemDetails();
            builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(options.Time);
            builder.Services.AddSingleton<ICoordinatorStore>(store);
            builder.Services.AddSingleton<ApiKeyCache>();
            builder.Services.AddSingleton(key);
            builder.Services.AddSingleton(_ => NodeClient.Create(options.NodeUrl, options.NodeRetry, options.Time));
            builder.Services.AddSingleton<CoordinatorMetrics>();
            builder.Services.AddSingleton<JobSignals>();
            builder.Services.AddSingleton<OutboxSignal>();
            builder.Services.AddSingleton<ChainSender>();
            builder.Services.AddSingleton<HeldOutboxRows>();
            builder.Services.AddSingleton<OutboxProcessor>();
            builder.Services.AddSingleton<JobService>();
            builder.Services.AddSingleton<CompletionWriter>();
            builder.Services.AddSingleton(new AssignKeys(key));
            builder.Services.AddSingleton<MinerStakes>();
            builder.Services.AddSingleton(_ => Client.Miner.MinerClient.Create(new Client.Http.RetryOptions { MaxRetries = 0, AttemptTimeout = options.AssignTimeout }));
            builder.Services.AddSingleton<SchedulerSignal>();
            builder.Services.AddSingleton<JobScheduler>();
            if (options.RunOutboxWorker)
            {
                builder.Services.AddHostedService<OutboxWorker>();
            }
            if (options.RunScheduler)
            {
                builder.Services.AddHostedService<SchedulerWorker>();
            }
            builder.Services.AddRateLimiter(limits => RateLimits.Configure(limits, options));
            builder.Services.AddOpenApi();

            var app = builder.Build();
            if (ownsKey)
            {
                app.Lifetime.ApplicationStopped.Register(key.Dispose);
            }
            // Closes the store's pooled connections (PostgreSQL's stay open until then).
            app.Lifetime.ApplicationStopped.Register(() => store.DisposeAsync().AsTask().GetAwaiter().GetResult());
            app.UseExceptionHandler();
            // Unknown routes and wrong methods answer problem bodies too, not empty 404/405s.
            app.UseStatusCodePages();
            app.UseSerilogRequestLogging(o =>
            {
                // Without it the middleware writes to the static Log.Logger, which this host never sets.
                o.Logger = logger;
                // Method, path (no query: it may carry cursors), status, duration and key id; never a key or a body.
                o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms (key {KeyId})";
                o.GetLevel = (http, _, error) => RequestLogging.LevelOf(http, error);
                o.EnrichDiagnosticContext = (diagnostics, http) =>
                {
                    if (http.Items[typeof(Caller)] is not Caller)
                    {
                        diagnostics.Set("KeyId", "-");
                    }
                };
            });
            var metrics = app.Services.GetRequiredService<CoordinatorMetrics>();
            app.UseHttpMetrics(o => o.SetMetricFactory(Metrics.WithCustomRegistry(metrics.Registry)));
            app.UseRateLimiter();
            app.UseApiKeys();
            metrics.Registry.AddBeforeCollectCallback(async cancellationToken =>
                metrics.JobsByStatus(await store.JobCountsByStatusAsync(cancellationToken).ConfigureAwait(false)));
            MapEndpoints(app);
            logger.Information("coordinator {Address} for node {NodeUrl}, data in {DataDir}, database {Database}", key.Address, options.NodeUrl, options.DataDirectory,
                store.Engine == "sqlite" ? options.DatabasePath : DatabaseSettings.Redact(options.Database!));
            return app;
        }
        catch
        {
            store?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            if (ownsKey)
            {
                key.Dispose();
            }
            logger.Dispose();
            throw;
        }
    }

    private static void MapEndpoints(WebApplication app)
    {
        var metrics = app.Services.GetRequiredService<CoordinatorMetrics>();
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" }));
        app.MapGet("/readyz", ReadyAsync);
        // MapMetrics answers every method; the metrics are read-only, so anything but GET is 405 like other routes.
        app.MapMetrics("/metrics", metrics.Registry).WithMetadata(new HttpMethodMetadata([HttpMethods.Get]));
        // The one document by its name, so that any other name is a plain 404 problem like other unknown routes.
        app.MapOpenApi("/openapi/v1.json");
        app.MapJobEndpoints();
        app.MapMinerEndpoints();
        app.MapMinerJobEndpoints();
        app.MapViewEndpoints();
        app.MapAdminEndpoints();
    }

    private static async Task<IResult> ReadyAsync(ICoordinatorStore store, NodeClient node, CancellationToken cancellationToken)
    {
        try
        {
            await store.PingAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (System.Data.Common.DbException e)
        {
            return Problems.Unavailable($"database unavailable: {e.Message}");
        }
        try
        {
            await node.HealthAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NodeClientException e)
        {
            return Problems.Unavailable(e.Message);
        }
        return TypedResults.Ok(new { status = "ready" });
    }

    private static Serilog.Core.Logger CreateLogger(CoordinatorOptions options)
    {
        Directory.CreateDirectory(options.EffectiveLogDirectory);
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("service", "aitbc-coordinator")
            .WriteTo.File(Path.Combine(options.EffectiveLogDirectory, "coordinator.log"),
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 5, shared: true);
        if (options.LogToConsole)
        {
            configuration = configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} [{Level:u3}] {Message:lj}{NewLine}{Exception}");
        }
        return configuration.CreateLogger();
    }
}
