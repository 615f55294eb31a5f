using Aitbc.Core.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Prometheus;

namespace Aitbc.ServiceDefaults;

/// <summary>
/// What a service host tells the defaults about itself: its names, where it listens, where it logs, its metrics registry
/// and how its request log and readiness answer read. Everything else (Serilog, Kestrel and TLS, health endpoints,
/// <c>/metrics</c>, tracing) is the same in every AITBC service.
/// </summary>
public sealed record ServiceDefaultsOptions
{
    /// <summary>The process name, e.g. <c>aitbc-coordinator</c>: the <c>service</c> property of every log event and the trace resource's service.name.</summary>
    public required string ServiceName { get; init; }

    /// <summary>The service's own <see cref="System.Diagnostics.ActivitySource"/> name, e.g. <c>Aitbc.Coordinator</c>; its spans are exported with the HTTP ones.</summary>
    public required string ActivitySourceName { get; init; }

    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (tests).</summary>
    public int Port { get; init; }

    /// <summary>Serve HTTPS with this certificate; null serves plain HTTP.</summary>
    public TlsServerSettings? Tls { get; init; }

    /// <summary>Kestrel refuses larger bodies with 413 before a handler reads them.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64 * 1024;

    public required string LogDirectory { get; init; }

    /// <summary>The log file's name in <see cref="LogDirectory"/>, e.g. <c>coordinator.log</c>.</summary>
    public required string LogFileName { get; init; }

    /// <summary>Also writes the log to the console (the daemons do; tests and <c>aitbc up</c> turn it off).</summary>
    public bool LogToConsole { get; init; } = true;

    /// <summary>The service's own registry, served at <c>/metrics</c>.</summary>
    public required CollectorRegistry Metrics { get; init; }

    /// <summary>Also records prometheus-net's per-request HTTP metrics (<c>http_request_duration_seconds</c> …) in <see cref="Metrics"/>.</summary>
    public bool HttpMetrics { get; init; }

    public RequestLogOptions RequestLog { get; init; } = new();

    /// <summary>
    /// Turns the readiness checks' report into <c>/readyz</c>'s answer; the default is <see cref="Readiness.Answer"/>
    /// (200 <c>{"status":"ready", …data}</c>, or a 503 problem naming the failed check).
    /// </summary>
    public Func<HealthReport, IResult> ReadinessAnswer { get; init; } = Readiness.Answer;
}
