using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Core.Net;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="NodeClient"/> as a typed HttpClient with the Aitbc retry pipeline.</summary>
public static class NodeClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="NodeClient"/> for the node at <paramref name="nodeUrl"/>. Backoff runs on the container's
    /// <see cref="TimeProvider"/> when one is registered (tests register a fake), else on the system clock.
    /// </summary>
    public static IHttpClientBuilder AddAitbcNodeClient(this IServiceCollection services, Uri nodeUrl, RetryOptions? retry = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(nodeUrl);
        var options = (retry ?? new RetryOptions()).Validate();
        var builder = services.AddHttpClient<NodeClient>(http =>
        {
            http.BaseAddress = nodeUrl;
            // The pipeline's attempt timeout bounds each try; HttpClient's own 100 s default would cut across retries.
            http.Timeout = Timeout.InfiniteTimeSpan;
        });
        builder.ConfigurePrimaryHttpMessageHandler(() => Tls.CreateClientHandler());
        builder.AddResilienceHandler("aitbc-node", (pipeline, context) =>
            RetryPipeline.Configure(pipeline, options, context.ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System));
        builder.AddHttpMessageHandler(() => new AttemptCounter());
        return builder;
    }
}
