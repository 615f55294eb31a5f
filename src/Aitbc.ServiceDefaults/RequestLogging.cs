using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Serilog.Events;

namespace Aitbc.ServiceDefaults;

/// <summary>The level of the one log line each request gets (Serilog's request logging).</summary>
public static class RequestLogging
{
    private static readonly RoutineRequests Marker = new();

    /// <summary>
    /// Marks an endpoint that is called all the time (the coordinator's submit, read, a miner's status and completion;
    /// every service's health and metrics probes): its successful requests are logged at Debug, below the services'
    /// Information level, because what changed is recorded by the service's own lines and a line per request was a file
    /// write per request at load. Its refusals and errors are logged as on every other endpoint.
    /// </summary>
    public static TBuilder Routine<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder => builder.WithMetadata(Marker);

    /// <summary>Error for an exception or a 5xx other than 503 (a bug); Warning for 503 (a dependency down); else Information, or Debug for a routine success.</summary>
    public static LogEventLevel LevelOf(HttpContext http, Exception? error)
    {
        ArgumentNullException.ThrowIfNull(http);
        var status = http.Response.StatusCode;
        if (error is not null || (status >= 500 && status != StatusCodes.Status503ServiceUnavailable))
        {
            return LogEventLevel.Error;
        }
        if (status >= 500)
        {
            return LogEventLevel.Warning;
        }
        return status < 400 && http.GetEndpoint()?.Metadata.GetMetadata<RoutineRequests>() is not null ? LogEventLevel.Debug : LogEventLevel.Information;
    }

    /// <summary>Error for an exception or a 5xx, else Debug: for a service whose every request is routine (the node's RPC).</summary>
    public static LogEventLevel ErrorsOnly(HttpContext http, Exception? error)
    {
        ArgumentNullException.ThrowIfNull(http);
        return error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error : LogEventLevel.Debug;
    }
}
