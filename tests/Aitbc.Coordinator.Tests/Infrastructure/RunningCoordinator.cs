using System.Net.Http.Headers;
using Aitbc.Coordinator.Storage;
using Aitbc.Core.Crypto;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Aitbc.Coordinator.Tests.Infrastructure;

/// <summary>A coordinator host on a loopback port over a data dir; stopping and starting another on the same dir is a restart.</summary>
public sealed class RunningCoordinator : IAsyncDisposable
{
    public const string AdminKey = "test-admin-key-0123456789";

    private RunningCoordinator(WebApplication app, Uri url, CoordinatorOptions options)
    {
        App = app;
        Url = url;
        Options = options;
    }

    public WebApplication App { get; }

    public Uri Url { get; }

    public CoordinatorOptions Options { get; }

    public ICoordinatorStore Store => App.Services.GetRequiredService<ICoordinatorStore>();

    public static CoordinatorOptions OptionsFor(InProcessNode node, Ed25519KeyPair key, string dataDir, bool sendSettlements = true) => new()
    {
        Port = 0,
        DataDirectory = dataDir,
        NodeUrl = node.Url,
        CoordinatorKey = key,
        AdminKey = AdminKey,
        LogToConsole = false,
        SendSettlements = sendSettlements,
        // The fake miners listen on loopback.
        AllowPrivateMinerEndpoints = true,
        OutboxPollInterval = TimeSpan.FromMilliseconds(50),
        OutboxBaseBackoff = TimeSpan.FromMilliseconds(20),
        OutboxMaxBackoff = TimeSpan.FromMilliseconds(200),
        MaxRequestBodyBytes = 64 * 1024,
        MaxPromptBytes = 32 * 1024,
        MaxWaitSeconds = 10,
        SchedulerPollInterval = TimeSpan.FromMilliseconds(50),
        AssignTimeout = TimeSpan.FromSeconds(2),
        NodeRetry = new() { MaxRetries = 1, BaseDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(5), AttemptTimeout = TimeSpan.FromSeconds(5) },
    };

    public static async Task<RunningCoordinator> StartAsync(CoordinatorOptions options)
    {
        var app = CoordinatorHost.Build(options);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RunningCoordinator(app, new Uri(address + "/"), options);
    }

    /// <summary>An HTTP client for the coordinator sending <paramref name="apiKey"/> in X-Api-Key (none when null).</summary>
    public HttpClient Http(string? apiKey = null, string header = "X-Api-Key")
    {
        var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            http.DefaultRequestHeaders.Add(header, apiKey);
        }
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
