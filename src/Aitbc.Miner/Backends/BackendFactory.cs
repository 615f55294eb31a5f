using Aitbc.Core.Net;
using Microsoft.Extensions.Logging;

namespace Aitbc.Miner.Backends;

/// <summary>Builds the configured backend, refusing options that cannot work before the miner goes online.</summary>
public static class BackendFactory
{
    /// <exception cref="BackendOptionsException">The options are invalid.</exception>
    /// <exception cref="InferenceException">The embedded backend's model file could not be loaded.</exception>
    /// <param name="logger">Receives the embedded backend's llama.cpp warnings and errors.</param>
    public static IInferenceBackend Create(BackendOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new BackendOptionsException(errors);
        }
        return options.Kind switch
        {
            BackendKind.Ollama => new OllamaBackend(NewHttpClient(options), options.RequestTimeout, time),
            BackendKind.OpenAi => new OpenAiCompatibleBackend(NewHttpClient(options), options.RequestTimeout, options.ApiKey, time),
            _ => EmbeddedLlamaBackend.Load(options.ModelPath!, options.ModelName, options.Threads, options.ContextSize, time, logger),
        };
    }

    // The backends enforce the request timeout themselves (so it can be told from the caller's cancellation):
    // the client's own is off. The miner keeps one backend for its lifetime, so the client is never disposed early.
    private static HttpClient NewHttpClient(BackendOptions options)
    {
        var handler = Tls.CreateClientHandler();
        handler.ConnectTimeout = options.ConnectTimeout;
        return new(handler) { BaseAddress = WithTrailingSlash(options.EffectiveUrl!), Timeout = Timeout.InfiniteTimeSpan };
    }

    // Relative paths ("api/generate") must resolve under a URL such as http://host/ollama, not replace its last segment.
    private static Uri WithTrailingSlash(Uri url) =>
        url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
}
