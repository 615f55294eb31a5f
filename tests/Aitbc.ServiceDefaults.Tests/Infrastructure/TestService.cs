using System.Diagnostics;
using Aitbc.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Aitbc.ServiceDefaults.Tests.Infrastructure;

/// <summary>A service built as the real hosts build theirs (<c>AddServiceDefaults</c>, <c>UseServiceDefaults</c>, <c>MapServiceDefaults</c>), on a free loopback port.</summary>
public sealed class TestService : IAsyncDisposable
{
    public static readonly ActivitySource Source = new("Aitbc.ServiceDefaults.Tests");

    private readonly string _directory;
    private bool _appDisposed;

    private TestService(WebApplication app, Uri url, string directory, CollectorRegistry metrics)
    {
        App = app;
        Url = url;
        _directory = directory;
        Metrics = metrics;
    }

    public WebApplication App { get; }

    public Uri Url { get; }

    public CollectorRegistry Metrics { get; }

    public string LogPath => Path.Combine(_directory, "test.log");

    /// <param name="configure">Adds services and readiness checks before the app is built.</param>
    /// <param name="map">Maps the service's own endpoints.</param>
    /// <param name="configuration">Host settings, as the environment would give them (OTEL_EXPORTER_OTLP_ENDPOINT …).</param>
    /// <param name="configureOptions">Changes the defaults' options from the ones every test service shares.</param>
    public static async Task<TestService> StartAsync(Action<WebApplicationBuilder, IHealthChecksBuilder>? configure = null, Action<WebApplication>? map = null,
        IReadOnlyDictionary<string, string?>? configuration = null, Func<ServiceDefaultsOptions, ServiceDefaultsOptions>? configureOptions = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"aitbc-defaults-{Guid.NewGuid():N}");
        var metrics = Prometheus.Metrics.NewCustomRegistry();
        var options = new ServiceDefaultsOptions
        {
            ServiceName = "aitbc-test",
            ActivitySourceName = Source.Name,
            Port = 0,
            LogDirectory = directory,
            LogFileName = "test.log",
            LogToConsole = false,
            Metrics = metrics,
        };
        options = configureOptions?.Invoke(options) ?? options;
        var logger = ServiceLog.Create(options);
        var builder = WebApplication.CreateSlimBuilder();
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }
        var health = builder.AddServiceDefaults(options, logger);
        configure?.Invoke(builder, health);
        var app = builder.Build();
        app.UseServiceDefaults();
        app.MapServiceDefaults();
        map?.Invoke(app);
        var url = await LoopbackServer.StartAsync(app);
        return new TestService(app, url, directory, metrics);
    }

    public HttpClient Http() => new() { BaseAddress = Url };

    /// <summary>Stops the service (which closes its log) and returns the log.</summary>
    public async Task<string> StopAndReadLogAsync()
    {
        await App.StopAsync();
        await DisposeAppAsync();
        return await File.ReadAllTextAsync(LogPath);
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeAppAsync();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private async Task DisposeAppAsync()
    {
        if (!_appDisposed)
        {
            _appDisposed = true;
            await App.DisposeAsync();
        }
    }
}
