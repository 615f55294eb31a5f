using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Aitbc.ServiceDefaults;

/// <summary>
/// OpenTelemetry tracing, exported over OTLP only when <see cref="EndpointVariable"/> is set. Without it no tracer
/// provider is registered: the services' own <see cref="System.Diagnostics.ActivitySource"/>s then have no listener and
/// their <c>StartActivity</c> returns null, so an untraced service pays nothing for its spans. W3C trace context is
/// carried either way: ASP.NET Core reads an incoming <c>traceparent</c> and HttpClient sends the current one on.
/// </summary>
public static class ServiceTracing
{
    /// <summary>The standard OTLP exporter setting (with OTEL_EXPORTER_OTLP_PROTOCOL, _HEADERS … read by the exporter itself).</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Whether traces are to be exported: an OTLP endpoint is configured (environment or host configuration).</summary>
    public static bool IsExported(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return !string.IsNullOrWhiteSpace(configuration[EndpointVariable]);
    }

    /// <summary>Registers the tracer provider: the service's spans, incoming requests (not the probes) and outgoing HTTP calls, to OTLP.</summary>
    internal static void Add(IServiceCollection services, ServiceDefaultsOptions options) =>
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(options.ActivitySourceName)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = http => !IsProbe(http.Request.Path))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());

    /// <summary>
    /// For a command-line tool (<c>aitbc</c>): a tracer provider for <paramref name="activitySourceName"/> and the tool's
    /// HTTP calls, exporting over OTLP as <paramref name="settings"/> say (the OTEL_* variables of its environment), or
    /// null when they name no endpoint. Dispose it before exiting: that sends the spans still buffered.
    /// </summary>
    public static TracerProvider? ForCommandLine(string serviceName, string activitySourceName, IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        if (!IsExported(configuration))
        {
            return null;
        }
        return Sdk.CreateTracerProviderBuilder()
            // The exporter reads its endpoint, protocol and headers from this configuration, not from the process's.
            .ConfigureServices(services => services.AddSingleton<IConfiguration>(configuration))
            .ConfigureResource(resource => resource.AddService(serviceName))
            .AddSource(activitySourceName)
            .AddHttpClientInstrumentation()
            .AddOtlpExporter()
            .Build();
    }

    /// <summary>Health and metrics probes: polled every few seconds, they would bury the traces worth reading.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}
