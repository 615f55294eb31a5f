using System.Collections;
using System.Globalization;
using System.Text.Json;
using Aitbc.Cli.Wallets;
using Aitbc.Client.Http;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;

namespace Aitbc.Cli.Infrastructure;

/// <summary>How output is written: text for people, json (stable field names) for scripts.</summary>
public enum OutputFormat
{
    Text,
    Json,
}

/// <summary>
/// Everything a command needs to know about where and how to run, resolved once per invocation with the precedence
/// option &gt; environment &gt; config file (<c>&lt;home&gt;/config.json</c>) &gt; default.
/// </summary>
public sealed record CliSettings
{
    public const string DefaultNodeUrl = "http://127.0.0.1:8006/";
    public const string DefaultCoordinatorUrl = "http://127.0.0.1:8000/";
    public const string DefaultWallet = "default";

    /// <summary>The CLI's home, <c>~/.aitbc</c> unless <c>AITBC_HOME</c> says otherwise (tests use a temp dir).</summary>
    public required string Home { get; init; }

    public OutputFormat Output { get; init; } = OutputFormat.Text;

    public required Uri NodeUrl { get; init; }

    /// <summary>The coordinator's URL; used by the job and market commands.</summary>
    public required Uri CoordinatorUrl { get; init; }

    /// <summary>The client key for the coordinator; null when none is configured.</summary>
    public string? ApiKey { get; init; }

    /// <summary>
    /// The key the admin commands send: <c>--api-key</c> when given, else <c>AITBC_ADMIN_KEY</c>, else
    /// <c>ADMIN_API_KEY</c> (the coordinator's own variable), else the config file's <c>admin_key</c>. Never the
    /// client key: a client key on an admin endpoint only earns a 403.
    /// </summary>
    public string? AdminKey { get; init; }

    /// <summary>The wallet commands use when none is named.</summary>
    public string Wallet { get; init; } = DefaultWallet;

    public RetryOptions Retry { get; init; } = new();

    /// <summary>PEM file of extra certificates to trust for https node and coordinator URLs (a private CA or a self-signed server).</summary>
    public string? CaCertificatePath { get; init; }

    /// <summary>Argon2id cost for new keystores; tests lower it through the environment so they stay fast.</summary>
    public KdfParameters Kdf { get; init; } = KdfParameters.Default;

    public string WalletsDirectory => Path.Combine(Home, "wallets");

    public string ConfigPath => Path.Combine(Home, "config.json");

    /// <summary>
    /// Resolves the settings from the global options' values, the environment and the config file;
    /// <paramref name="retry"/> replaces the built-in retry defaults (tests shorten the delays), which the
    /// environment and config file still adjust.
    /// </summary>
    public static CliSettings Resolve(IDictionary env, string? output, string? node, string? url, string? apiKey, RetryOptions? retry = null, string? caCert = null)
    {
        string? Env(string name) => env[name] as string is { Length: > 0 } v ? v : null;

        var home = Env("AITBC_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aitbc");
        var config = ConfigFile.Load(Path.Combine(home, "config.json"));

        var outputText = output ?? Env("AITBC_OUTPUT") ?? config.Output ?? "text";
        var format = outputText.ToLowerInvariant() switch
        {
            "text" => OutputFormat.Text,
            "json" => OutputFormat.Json,
            _ => throw new CliUsageException($"--output must be text or json, not '{outputText}'"),
        };

        retry ??= new RetryOptions();
        if ((Env("AITBC_RETRY_DELAY_MS") ?? config.RetryDelayMs?.ToString(CultureInfo.InvariantCulture)) is { } delayText)
        {
            var ms = ParseNonNegative(delayText, "AITBC_RETRY_DELAY_MS");
            retry = retry with { BaseDelay = TimeSpan.FromMilliseconds(ms), MaxDelay = TimeSpan.FromMilliseconds(Math.Max(ms * 8, 1)) };
        }
        if ((Env("AITBC_RETRIES") ?? config.Retries?.ToString(CultureInfo.InvariantCulture)) is { } retriesText)
        {
            retry = retry with { MaxRetries = ParseNonNegative(retriesText, "AITBC_RETRIES") };
        }

        var kdf = KdfParameters.Default;
        if (Env("AITBC_KDF_MEMORY_KIB") is { } memory)
        {
            kdf = kdf with { MemoryKib = ParseNonNegative(memory, "AITBC_KDF_MEMORY_KIB") };
        }
        if (Env("AITBC_KDF_ITERATIONS") is { } iterations)
        {
            kdf = kdf with { Iterations = ParseNonNegative(iterations, "AITBC_KDF_ITERATIONS") };
        }

        var caCertificatePath = caCert ?? Env(Tls.CaCertificateVariable) ?? config.CaCert;
        if (caCertificatePath is not null && !File.Exists(caCertificatePath))
        {
            throw new CliUsageException($"--ca-cert: the CA certificate file {caCertificatePath} does not exist");
        }

        return new CliSettings
        {
            Home = home,
            Output = format,
            NodeUrl = ParseUrl(node ?? Env("AITBC_NODE_URL") ?? config.Node ?? DefaultNodeUrl, "--node"),
            CoordinatorUrl = ParseUrl(url ?? Env("AITBC_URL") ?? config.Url ?? DefaultCoordinatorUrl, "--url"),
            ApiKey = apiKey ?? Env("CLIENT_API_KEY") ?? config.ApiKey,
            AdminKey = apiKey ?? Env("AITBC_ADMIN_KEY") ?? Env("ADMIN_API_KEY") ?? config.AdminKey,
            Wallet = Env("AITBC_WALLET") ?? config.Wallet ?? DefaultWallet,
            Retry = retry,
            CaCertificatePath = caCertificatePath,
            Kdf = kdf,
        };
    }

    private static int ParseNonNegative(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw new CliUsageException($"{name} must be a non-negative whole number, not '{text}'");

    private static Uri ParseUrl(string text, string option)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliUsageException($"{option} must be an http(s) URL like http://127.0.0.1:8006, not '{text}'");
        }
        // A base URL without a trailing slash would drop its last path segment when requests resolve against it.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri + "/");
    }
}

/// <summary>The optional <c>config.json</c>: the same settings as the options and environment, snake_case.</summary>
public sealed record ConfigFile(string? Node, string? Url, string? ApiKey, string? Output, string? Wallet, int? RetryDelayMs, int? Retries, string? AdminKey = null, string? CaCert = null)
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static ConfigFile Load(string path)
    {
        if (!File.Exists(path))
        {
            return new ConfigFile(null, null, null, null, null, null, null);
        }
        try
        {
            return JsonSerializer.Deserialize<ConfigFile>(File.ReadAllText(path), Options)
                ?? throw new CliUsageException($"config file {path} is empty; write a JSON object like {{\"node\": \"http://127.0.0.1:8006\"}}");
        }
        catch (JsonException e)
        {
            throw new CliUsageException($"config file {path} is not valid JSON ({e.Message}); fix or delete it");
        }
    }
}
