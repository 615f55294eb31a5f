using Aitbc.Client.Node;
using Aitbc.Coordinator.Admin;
using Aitbc.Coordinator.Auth;
using Aitbc.Coordinator.Chain;
using Aitbc.Coordinator.Health;
using Aitbc.Coordinator.Http;
using Aitbc.Coordinator.Jobs;
using Aitbc.Coordinator.Miners;
using Aitbc.Coordinator.Scheduling;
using Aitbc.Coordinator.Storage;
using Aitbc.Coordinator.Views;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aitbc.Coordinator;

/// <summary>Builds the coordinator's web host from options: used by aitbc-coordinator, by <c>aitbc up</c> and by tests.</summary>
public static class CoordinatorHost
{
    public static WebApplication Build(CoordinatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        // Owner-only directories (0700): the coordinator key, the database and the logs are nobody else's to read.
        PrivateFiles.CreateDirectory(options.ConfigDirectory);
        if (options.LogDirectory is null)
        {
            PrivateFiles.CreateDirectory(options.EffectiveLogDirectory);
        }
        var metrics = new CoordinatorMetrics();
        var authenticatedKeys = new AuthenticatedKeys(options);
        var defaults = new ServiceDefaultsOptions
        {
            ServiceName = "aitbc-coordinator",
            ActivitySourceName = CoordinatorTracing.Source.Name,
            Host = options.Host,
            Port = options.Port,
            Tls = options.Tls,
            MaxRequestBodyBytes = options.MaxRequestBodyBytes,
            LogDirectory = options.EffectiveLogDirectory,
            LogFileName = "coordinator.log",
            LogToConsole = options.LogToConsole,
            Metrics = metrics.Registry,
            HttpMetrics = true,
            RequestLog = new RequestLogOptions
            {
                MessageTemplate = RequestLogOptions.DefaultTemplate + " (key {KeyId})",
                Enrich = (diagnostics, http) =>
                {
                    if (http.Items[typeof(Caller)] is not Caller)
                    {
                        diagnostics.Set("KeyId", "-");
                    }
                },
            },
        };
        var logger = ServiceLog.Create(defaults);
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

            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.AddServiceDefaults(defaults, logger)
                .AddReadinessCheck<DatabaseReadiness>("database")
                .AddReadinessCheck<NodeReadiness>("node");
            builder.Services.ConfigureHttpJsonOptions(json => Contracts.ContractJson.ApplyServerRules(json.SerializerOptions));
            builder.Services.AddProblemDetails();
            builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(options.Time);
            builder.Services.AddSingleton<ICoordinatorStore>(store);
            builder.Services.AddSingleton<ApiKeyCache>();
            builder.Services.AddSingleton(authenticatedKeys);
            builder.Services.AddSingleton<LongPolls>();
            builder.Services.AddSingleton(key);
            builder.Services.AddSingleton(_ => NodeClient.Create(options.NodeUrl, options.NodeRetry, options.Time));
            builder.Services.AddSingleton(metrics);
            builder.Services.AddSingleton<JobSignals>();
            builder.Services.AddSingleton<OutboxSignal>();
            builder.Services.AddSingleton<SubmitDecisions>();
            if (store.Engine == "postgresql")
            {
                // Several coordinator processes may share this database and key: one chain writer at a time, and wake-ups reach them all.
                var npgsql = DatabaseSettings.ToNpgsql(options.Database!);
                builder.Services.AddSingleton<IWriterRole>(services => ActivatorUtilities.CreateInstance<Cluster.PostgresWriterRole>(services, npgsql, key.Address));
                builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<Cluster.ClusterBus>(services, npgsql));
                builder.Services.AddHostedService(services => services.GetRequiredService<Cluster.ClusterBus>());
            }
            else
            {
                builder.Services.AddSingleton<IWriterRole, LocalWriterRole>();
            }
            builder.Services.AddSingleton<ChainWriter>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ChainWriter>());
            builder.Services.AddSingleton<JobService>();
            builder.Services.AddSingleton<CompletionWriter>();
            builder.Services.AddSingleton<MinerJobService>();
            builder.Services.AddSingleton(new AssignKeys(key));
            builder.Services.AddSingleton<MinerStakes>();
            var minerEndpoints = new MinerEndpointPolicy(options);
            builder.Services.AddSingleton(minerEndpoints);
            builder.Services.AddSingleton(_ => Client.Miner.MinerClient.Create(new Client.Http.RetryOptions { MaxRetries = 0, AttemptTimeout = options.AssignTimeout },
                transport: minerEndpoints.CreateHandler()));
            builder.Services.AddSingleton<SchedulerSignal>();
            builder.Services.AddSingleton<JobScheduler>();
            if (options.RunScheduler)
            {
                builder.Services.AddHostedService<SchedulerWorker>();
            }
            builder.Services.AddRateLimiter(limits => RateLimits.Configure(limits, options, authenticatedKeys));
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
            app.UseServiceDefaults();
            app.UseRateLimiter();
            app.UseApiKeys();
            app.UseUnframedBodies();
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
        app.MapServiceDefaults();
        // The one document by its name, so that any other name is a plain 404 problem like other unknown routes.
        app.MapOpenApi("/openapi/v1.json");
        app.MapJobEndpoints();
        app.MapMinerEndpoints();
        app.MapMinerJobEndpoints();
        app.MapViewEndpoints();
        app.MapAdminEndpoints();
    }
}
