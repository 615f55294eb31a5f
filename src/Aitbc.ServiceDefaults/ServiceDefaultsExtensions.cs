using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Prometheus;
using Serilog;

namespace Aitbc.ServiceDefaults;

/// <summary>
/// What every AITBC service host does, in three steps: <see cref="AddServiceDefaults"/> on the builder (Kestrel and
/// TLS, Serilog, tracing, health checks), <see cref="UseServiceDefaults"/> where the request log belongs in the
/// pipeline, and <see cref="MapServiceDefaults"/> for <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>The probes are read-only: anything but GET is 405, like on every other route.</summary>
    private static readonly HttpMethodMetadata GetOnly = new([HttpMethods.Get]);

    /// <summary>
    /// Listens on <see cref="ServiceDefaultsOptions.Host"/>:<see cref="ServiceDefaultsOptions.Port"/> (HTTPS when a
    /// certificate is set), logs through <paramref name="logger"/> (disposed with the host), traces when an OTLP endpoint
    /// is configured. Returns the health checks builder: the service adds its readiness checks to it with
    /// <see cref="Readiness.AddReadinessCheck{T}"/>.
    /// </summary>
    public static IHealthChecksBuilder AddServiceDefaults(this WebApplicationBuilder builder, ServiceDefaultsOptions options, Serilog.Core.Logger logger)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        // Loaded before serving, so a missing or keyless certificate stops the start, naming the file.
        var certificate = options.Tls?.Load();
        var address = System.Net.IPAddress.Parse(options.Host);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
            kestrel.Listen(address, options.Port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
        });
        builder.Logging.ClearProviders();
        builder.Services.AddSerilog(logger, dispose: true);
        builder.Services.AddSingleton(new ServiceDefaultsState(options, logger));
        if (ServiceTracing.IsExported(builder.Configuration))
        {
            ServiceTracing.Add(builder.Services, options);
        }
        return builder.Services.AddHealthChecks();
    }

    /// <summary>The request log (one line per request, see <see cref="RequestLogOptions"/>) and, when asked, the HTTP metrics.</summary>
    public static WebApplication UseServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var (options, logger) = app.Services.GetRequiredService<ServiceDefaultsState>();
        var requestLog = options.RequestLog;
        app.UseSerilogRequestLogging(o =>
        {
            // Without it the middleware writes to the static Log.Logger, which no service sets.
            o.Logger = logger;
            o.MessageTemplate = requestLog.MessageTemplate;
            o.GetLevel = (http, _, error) => requestLog.Level(http, error);
            if (requestLog.Enrich is { } enrich)
            {
                o.EnrichDiagnosticContext = enrich;
            }
        });
        if (options.HttpMetrics)
        {
            app.UseHttpMetrics(o => o.SetMetricFactory(Metrics.WithCustomRegistry(options.Metrics)));
        }
        return app;
    }

    /// <summary>
    /// <c>/healthz</c>: 200 <c>{"status":"ok"}</c> while the process serves. <c>/readyz</c>: the readiness checks, answered
    /// by <see cref="ServiceDefaultsOptions.ReadinessAnswer"/>. <c>/metrics</c>: the service's registry in Prometheus text.
    /// All three GET only, and logged at Debug when they succeed.
    /// </summary>
    public static WebApplication MapServiceDefaults(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<ServiceDefaultsState>().Options;
        app.MapHealthChecks("/healthz", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = (http, _) => TypedResults.Ok(new { status = "ok" }).ExecuteAsync(http),
        }).WithMetadata(GetOnly).Routine();
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(Readiness.Tag),
            ResponseWriter = (http, report) => options.ReadinessAnswer(report).ExecuteAsync(http),
        }).WithMetadata(GetOnly).Routine();
        app.MapMetrics("/metrics", options.Metrics).WithMetadata(GetOnly).Routine();
        return app;
    }
}
