using System.Text.Json;
using Aitbc.Chain;
using Aitbc.Chain.Genesis;
using Aitbc.Core.Crypto;
using Aitbc.Core.Json;
using Aitbc.Core.Net;
using Aitbc.Node.Follower;
using Aitbc.Node.Rpc;
using Aitbc.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Aitbc.Node;

/// <summary>Builds a node's web host from options: used by aitbc-node, by <c>aitbc up</c> and by tests.</summary>
public static class NodeHost
{
    public static async Task<WebApplication> BuildAsync(NodeOptions options, CancellationToken cancellationToken = default)
    {
        Core.PrivateFiles.CreateDirectory(options.ConfigDirectory);
        var metrics = new NodeMetrics();
        var defaults = new ServiceDefaultsOptions
        {
            ServiceName = "aitbc-node",
            ActivitySourceName = NodeTracing.Source.Name,
            Host = options.Host,
            Port = options.Port,
            Tls = options.Tls,
            MaxRequestBodyBytes = JsonRpcEndpoint.MaxBodyBytes,
            LogDirectory = options.EffectiveLogDirectory,
            LogFileName = "node.log",
            LogToConsole = options.LogToConsole,
            Metrics = metrics.Registry,
            // Every RPC request is routine (wallets, explorers and the coordinator poll it); only failures are worth a line.
            RequestLog = new RequestLogOptions { Level = RequestLogging.ErrorsOnly },
            ReadinessAnswer = FollowerReadiness.Answer,
        };
        var logger = ServiceLog.Create(defaults);
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
            var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
            builder.AddServiceDefaults(defaults, logger).AddReadinessCheck<FollowerReadiness>("follower");
            builder.Services.AddSingleton(options);
            builder.Services.AddSingleton(chain);
            builder.Services.AddSingleton(metrics);
            builder.Services.AddSingleton(options.RpcLimits);
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
            metrics.Attach(chain);
            app.UseServiceDefaults();
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
        app.MapPost("/", rpc.HandlePostAsync);
        app.MapGet("/", () => Results.Json(new { methods = nodeRpc.Methods.Order(StringComparer.Ordinal).ToArray() }));
        app.MapServiceDefaults();
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
}
