using Microsoft.AspNetCore.Http;
using Serilog;
using Serilog.Events;

namespace Aitbc.ServiceDefaults;

/// <summary>How the one log line each request gets reads, and at what level it is written.</summary>
public sealed record RequestLogOptions
{
    /// <summary>Method, path (no query: it may carry cursors), status and duration; never a key or a body.</summary>
    public const string DefaultTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";

    public string MessageTemplate { get; init; } = DefaultTemplate;

    /// <summary>The line's level from the finished request and the exception it threw, if any.</summary>
    public Func<HttpContext, Exception?, LogEventLevel> Level { get; init; } = RequestLogging.LevelOf;

    /// <summary>Sets the template's own properties beyond the standard ones (the coordinator's key id).</summary>
    public Action<IDiagnosticContext, HttpContext>? Enrich { get; init; }
}
