using Serilog;
using Serilog.Events;

namespace Aitbc.ServiceDefaults;

/// <summary>Every service's Serilog logger: a rolling file in its log directory, and the console when asked.</summary>
public static class ServiceLog
{
    /// <summary>
    /// Information and above from the service; framework, HttpClient and Polly chatter only from Warning up (a line per
    /// request or per retry would drown the service's own lines). Each event carries <c>service</c> and its log context.
    /// </summary>
    public static Serilog.Core.Logger Create(ServiceDefaultsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.LogDirectory);
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .MinimumLevel.Override("System.Net.Http", LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("service", options.ServiceName)
            .WriteTo.File(Path.Combine(options.LogDirectory, options.LogFileName),
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 5, shared: true);
        if (options.LogToConsole)
        {
            configuration = configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} [{Level:u3}] {Message:lj}{NewLine}{Exception}");
        }
        return configuration.CreateLogger();
    }
}
