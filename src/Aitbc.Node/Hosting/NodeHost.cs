using System.Text.Json;
using Aitbc.Chain;
using Aitbc.Chain.Genesis;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Net;
using Aitbc.Node.Follower;
using Aitbc.Node.Rpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Serilog;
using Serilog.Events;

namespace Aitbc.Node;

/// <summary>Builds a node's web host from options: used by aitbc-node, by <c>aitbc up</c> and by tests.</summary>
public static class NodeHost
{
    public static async Task<WebApplication> BuildAsync(NodeOptions options, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(options.ConfigDirectory);
        var logger = CreateLogger(options);
        var genesis = await LoadGenesisAsync(options, cancellationToken).ConfigureAwait(false);
        Ed25519KeyPair? validatorKey = null;
        if (options.FollowUrl is null)
        {
            if (!File.Exists(options.ValidatorKeyPath))
            {
                throw new InvalidOperationException($"no validator key at {options.ValidatorKeyPath}: run 'aitbc-node init' first, or start with --follow URL");
            }
            validatorKey = KeyFile.Load(options.ValidatorKeyPath);
        }
        using var nodeKey = KeyFile.LoadOrCreate(options.NodeKeyPath);
        var nodeId = Convert.ToHexStringLower(nodeKey.Address.Payload());
        var chain = Blockchain.Open(new ChainOptions
        {
            DataDirectory = options.ChainDirectory,
            ValidatorKey = validatorKey,
            CommitTimeout = options.CommitTimeout,
        }, genesis);

        try
        {
            // Loaded before serving, so a missing or keyless certificate stops the start, naming the file.
            var certificate = options.Tls?.Load();
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.WebHost.ConfigureKestrel(kestrel =>
            {
                kestrel.Limits.MaxRequestBodySize = JsonRpcEndpoint.MaxBodyBytes;
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
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(chain);
            builder.Services.AddSingleton<NodeMetrics>();
            builder.Services.AddSingleton<JsonRpcEndpoint>();
            if (options.FollowUrl is { } followUrl)
            {
                var baseUrl = followUrl.AbsoluteUri.EndsWith('/') ? followUrl : new Uri(followUrl.AbsoluteUri + "/");
                builder.Services.AddSingleton(_ => new ValidatorRpcClient(new HttpClient(Tls.CreateClientHandler()) { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) }));
                builder.Services.AddSingleton<FollowerService>();
                builder.Services.AddHostedService(sp => sp.GetRequiredService<FollowerService>());
                builder.Services.AddSingleton(sp => new NodeRpc(chain, Identity(options, nodeId), sp.GetRequiredService<ValidatorRpcClient>(),
                    () => sp.GetRequiredService<FollowerService>().CatchingUp));
            }
            else
            {
                builder.Services.AddHostedService<BlockProducerService>();
                builder.Services.AddSingleton(_ => new NodeRpc(chain, Identity(options, nodeId)));
            }

            var app = builder.Build();
            app.Lifetime.ApplicationStopped.Register(chain.Dispose);
            app.Services.GetRequiredService<NodeMetrics>().Attach(chain);
            app.UseSerilogRequestLogging(o =>
            {
                // Without an explicit logger the middleware writes to the static Log.Logger, which is silent here.
                o.Logger = logger;
                o.GetLevel = (http, _, error) =>
                    error is not null || http.Response.StatusCode >= 500 ? LogEventLevel.Error : LogEventLevel.Debug;
            });
            MapEndpoints(app);
            logger.Information("node {Moniker} for chain {ChainId} at height {Height} ({Role}), data in {DataDir}",
                options.Moniker, genesis.ChainId, chain.Status.Height, options.FollowUrl is null ? "validator" : $"follower of {options.FollowUrl}", options.DataDirectory);
            return app;
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    private static NodeIdentity Identity(NodeOptions options, string nodeId) =>
        new(nodeId, options.Moniker, $"tcp://{options.Host}:{options.Port}");

    private static void MapEndpoints(WebApplication app)
    {
        var rpc = app.Services.GetRequiredService<JsonRpcEndpoint>();
        var nodeRpc = app.Services.GetRequiredService<NodeRpc>();
        var metrics = app.Services.GetRequiredService<NodeMetrics>();
        app.MapPost("/", rpc.HandlePostAsync);
        app.MapGet("/", () => Results.Json(new { methods = nodeRpc.Methods.Order(StringComparer.Ordinal).ToArray() }));
        app.MapGet("/healthz", () => Results.Json(new { status = "ok" }));
        app.MapGet("/readyz", (IServiceProvider services) =>
        {
            var follower = services.GetService<FollowerService>();
            if (follower?.HaltReason is { } reason)
            {
                return Results.Json(new { status = "halted", reason }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
            return Results.Json(new { status = "ready", catching_up = follower?.CatchingUp ?? false });
        });
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapGet("/{method}", (HttpContext context, string method) => rpc.HandleGetAsync(context, method));
    }

    private static async Task<GenesisDocument> LoadGenesisAsync(NodeOptions options, CancellationToken cancellationToken)
    {
        if (File.Exists(options.GenesisPath))
        {
            return GenesisDocument.Parse(await File.ReadAllTextAsync(options.GenesisPath, cancellationToken).ConfigureAwait(false));
        }
        if (options.FollowUrl is null)
        {
            throw new InvalidOperationException($"no genesis at {options.GenesisPath}: run 'aitbc-node init --chain-id ID --data-dir {options.DataDirectory}' first");
        }
        using var http = new HttpClient(Tls.CreateClientHandler()) { BaseAddress = options.FollowUrl, Timeout = TimeSpan.FromSeconds(30) };
        var client = new ValidatorRpcClient(http);
        var answer = await client.CallAsync("genesis", [], cancellationToken).ConfigureAwait(false);
        var genesis = answer.GetProperty("genesis").GetProperty("app_state").Deserialize<GenesisDocument>(WireJson.Options)?.Validate()
            ?? throw new InvalidDataException("the validator's genesis has no app_state");
        await File.WriteAllBytesAsync(options.GenesisPath, JsonSerializer.SerializeToUtf8Bytes(genesis, IndentedWire), cancellationToken).ConfigureAwait(false);
        return genesis;
    }

    internal static readonly JsonSerializerOptions IndentedWire = new(WireJson.Options) { WriteIndented = true };

    private static Serilog.Core.Logger CreateLogger(NodeOptions options)
    {
        Directory.CreateDirectory(options.EffectiveLogDirectory);
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .Enrich.WithProperty("service", "aitbc-node")
            .WriteTo.File(Path.Combine(options.EffectiveLogDirectory, "node.log"),
                outputTemplate: "{Timestamp:yyyy-MM-ddTHH:mm:ss.fffZ} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 5, shared: true);
        if (options.LogToConsole)
        {
            configuration = configuration.WriteTo.Console(outputTemplate: "{Timestamp:HH:mm:ss} [{Level:u3}] {Message:lj}{NewLine}{Exception}");
        }
        return configuration.CreateLogger();
    }
}
