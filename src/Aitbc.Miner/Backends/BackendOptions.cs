using System.Globalization;

namespace Aitbc.Miner.Backends;

/// <summary>Which inference backend a miner runs.</summary>
public enum BackendKind
{
    /// <summary>Ollama's native API (the default).</summary>
    Ollama,

    /// <summary>An OpenAI-compatible server: vLLM, llama.cpp's server, LM Studio.</summary>
    OpenAi,

    /// <summary>llama.cpp inside the miner, running a GGUF file.</summary>
    Embedded,
}

/// <summary>The miner's backend configuration; <see cref="Validate"/> says everything wrong with it at once.</summary>
public sealed record BackendOptions
{
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Long enough for a big model's first load; a job's own deadline cancels sooner.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromMinutes(10);

    public BackendKind Kind { get; init; } = BackendKind.Ollama;

    /// <summary>The server's root URL; Ollama's defaults to <see cref="OllamaBackend.DefaultUrl"/>.</summary>
    public Uri? Url { get; init; }

    /// <summary>Bearer token for an OpenAI-compatible server that wants one.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The GGUF file the embedded backend runs.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The model name the embedded backend serves; the file's name without extension when null.</summary>
    public string? ModelName { get; init; }

    /// <summary>CPU threads for the embedded backend; llama.cpp's default when null.</summary>
    public int? Threads { get; init; }

    /// <summary>Context tokens per embedded generation (prompt and output).</summary>
    public uint ContextSize { get; init; } = 512;

    public TimeSpan ConnectTimeout { get; init; } = DefaultConnectTimeout;

    public TimeSpan RequestTimeout { get; init; } = DefaultRequestTimeout;

    /// <summary>The URL actually used: the configured one, or the kind's default.</summary>
    public Uri? EffectiveUrl => Url ?? (Kind == BackendKind.Ollama ? OllamaBackend.DefaultUrl : null);

    /// <summary>Parses the configuration word for a kind: <c>ollama</c>, <c>openai</c> or <c>embedded</c>.</summary>
    public static BackendKind ParseKind(string text) => text.Trim().ToLower(CultureInfo.InvariantCulture) switch
    {
        "ollama" => BackendKind.Ollama,
        "openai" or "openai-compatible" => BackendKind.OpenAi,
        "embedded" or "llama.cpp" => BackendKind.Embedded,
        _ => throw new BackendOptionsException([$"unknown backend kind '{text}': use ollama, openai or embedded"]),
    };

    /// <summary>Every problem with these options, each a sentence an operator can act on; empty when they are fine.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        switch (Kind)
        {
            case BackendKind.Ollama or BackendKind.OpenAi:
                var url = EffectiveUrl;
                if (url is null)
                {
                    errors.Add("the openai backend needs a URL (for example http://127.0.0.1:8000 for vLLM)");
                }
                else if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
                {
                    errors.Add($"backend URL '{url}' must be an absolute http or https URL");
                }
                if (ConnectTimeout <= TimeSpan.Zero)
                {
                    errors.Add($"connect timeout must be positive, not {ConnectTimeout}");
                }
                break;
            case BackendKind.Embedded:
                if (string.IsNullOrWhiteSpace(ModelPath))
                {
                    errors.Add("the embedded backend needs a model path (a GGUF file; `aitbc miner make-test-model` writes a tiny one)");
                }
                else if (!File.Exists(ModelPath))
                {
                    errors.Add($"model file '{ModelPath}' does not exist (`aitbc miner make-test-model` writes a tiny one)");
                }
                if (Threads is < 1 or > 1024)
                {
                    errors.Add($"threads must be between 1 and 1024, not {Threads}");
                }
                if (ContextSize < 64)
                {
                    errors.Add($"context size must be at least 64 tokens, not {ContextSize}");
                }
                break;
            default:
                errors.Add($"unknown backend kind {Kind}");
                break;
        }
        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            errors.Add($"request timeout must be positive, not {RequestTimeout}");
        }
        return errors;
    }
}

/// <summary>Backend options that cannot work, refused at start-up with every reason.</summary>
public sealed class BackendOptionsException(IReadOnlyList<string> errors)
    : Exception("invalid backend configuration: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
