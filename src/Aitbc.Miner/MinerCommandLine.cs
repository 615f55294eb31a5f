using System.CommandLine;
using Aitbc.Core;
using Aitbc.Core.Crypto;
using Aitbc.Core.Net;
using Aitbc.Miner.Backends;

namespace Aitbc.Miner;

/// <summary>
/// The miner's commands (<c>start</c>, <c>key</c>, <c>make-test-model</c>), built once and used by both
/// <c>aitbc-miner</c> and <c>aitbc miner</c>. Every option also reads an AITBC_* environment variable (e.g.
/// AITBC_MINER_API_KEY); the command line wins.
/// </summary>
public static class MinerCommandLine
{
    /// <summary>The three commands, in the order help lists them.</summary>
    public static IReadOnlyList<Command> Commands()
    {
        var defaults = new MinerOptions();
        var port = new Option<int>("--port") { Description = "Port to listen on (AITBC_MINER_PORT)", DefaultValueFactory = _ => EnvInt("AITBC_MINER_PORT") ?? MinerOptions.DefaultPort };
        var host = new Option<string>("--host") { Description = "Address to listen on (AITBC_MINER_HOST)", DefaultValueFactory = _ => Env("AITBC_MINER_HOST") ?? defaults.Host };
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Miner home: config/ (miner key), data/ (outbox.db), logs/ (AITBC_MINER_DATA_DIR)",
            DefaultValueFactory = _ => Env("AITBC_MINER_DATA_DIR") ?? defaults.DataDirectory,
        };
        var coordinator = UrlOption("--coordinator", "The coordinator's URL", "AITBC_COORDINATOR_URL", defaults.CoordinatorUrl);
        var node = UrlOption("--node", "The node's RPC URL", "AITBC_NODE_URL", defaults.NodeUrl);
        var endpoint = UrlOption("--public-endpoint", "URL the coordinator reaches this miner at (default http://<host>:<port>/)", "AITBC_MINER_PUBLIC_ENDPOINT", null);
        var minerApiKey = new Option<string?>("--miner-api-key") { Description = "Miner API key from the coordinator's admin (default $AITBC_MINER_API_KEY; prefer the variable: arguments show in ps)" };
        var minerKey = new Option<string?>("--miner-key") { Description = "Miner key file (default <data-dir>/config/miner_key.json, created 0600 when missing; AITBC_MINER_KEY)" };
        var stake = new Option<string>("--stake") { Description = "Stake in AITBC sent with register_miner when the chain does not know this miner (AITBC_MINER_STAKE)", DefaultValueFactory = _ => Env("AITBC_MINER_STAKE") ?? defaults.Stake.ToAitbcString() };
        var price = new Option<string>("--price") { Description = "Price per second of compute in AITBC (AITBC_MINER_PRICE)", DefaultValueFactory = _ => Env("AITBC_MINER_PRICE") ?? defaults.PricePerSecond.ToAitbcString() };
        var capacity = new Option<int>("--capacity") { Description = "Jobs run at once (AITBC_MINER_CAPACITY)", DefaultValueFactory = _ => EnvInt("AITBC_MINER_CAPACITY") ?? defaults.Capacity };
        var noChain = new Option<bool>("--no-chain-register") { Description = "Do not send register_miner on start (the miner is registered on chain already or by other means)" };
        var backend = new Option<string>("--backend") { Description = "ollama, openai or embedded (AITBC_MINER_BACKEND)", DefaultValueFactory = _ => Env("AITBC_MINER_BACKEND") ?? "ollama" };
        var backendUrl = UrlOption("--backend-url", "The backend's URL (Ollama default http://127.0.0.1:11434)", "AITBC_MINER_BACKEND_URL", null);
        var backendApiKey = new Option<string?>("--backend-api-key") { Description = "Bearer token for an OpenAI-compatible server (default $AITBC_MINER_BACKEND_API_KEY)" };
        var modelPath = new Option<string?>("--model-path") { Description = "GGUF file for the embedded backend (AITBC_MINER_MODEL_PATH)", DefaultValueFactory = _ => Env("AITBC_MINER_MODEL_PATH") };
        var modelName = new Option<string?>("--model-name") { Description = "Model name the embedded backend serves (default the file name; AITBC_MINER_MODEL_NAME)", DefaultValueFactory = _ => Env("AITBC_MINER_MODEL_NAME") };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for the embedded backend" };
        var logDir = new Option<string?>("--log-dir") { Description = "Directory for miner.log (default /var/log/aitbc when writable, else <data-dir>/logs)" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = $"Serve HTTPS with this certificate: PEM (with --tls-key) or .pfx ({TlsServerSettings.CertificateVariable})" };
        var tlsKey = new Option<string?>("--tls-key") { Description = $"PEM private key of --tls-cert ({TlsServerSettings.KeyVariable})" };

        var start = new Command("start", "Run the miner: register, heartbeat, accept assignments, run inference")
        {
            port, host, dataDir, coordinator, node, endpoint, minerApiKey, minerKey, stake, price, capacity, noChain,
            backend, backendUrl, backendApiKey, modelPath, modelName, threads, logDir, tlsCert, tlsKey,
        };
        start.SetAction(async (parse, cancellationToken) =>
        {
            var options = new MinerOptions
            {
                Port = parse.GetValue(port),
                Host = parse.GetValue(host)!,
                DataDirectory = parse.GetValue(dataDir)!,
                CoordinatorUrl = parse.GetValue(coordinator)!,
                NodeUrl = parse.GetValue(node)!,
                PublicEndpoint = parse.GetValue(endpoint),
                MinerApiKey = parse.GetValue(minerApiKey) ?? Env("AITBC_MINER_API_KEY"),
                MinerKeyPath = parse.GetValue(minerKey) ?? Env("AITBC_MINER_KEY"),
                Stake = Amount.ParseAitbc(parse.GetValue(stake)!),
                PricePerSecond = Amount.ParseAitbc(parse.GetValue(price)!),
                Capacity = parse.GetValue(capacity),
                RegisterOnChain = !parse.GetValue(noChain),
                Backend = new BackendOptions
                {
                    Kind = BackendOptions.ParseKind(parse.GetValue(backend)!),
                    Url = parse.GetValue(backendUrl),
                    ApiKey = parse.GetValue(backendApiKey) ?? Env("AITBC_MINER_BACKEND_API_KEY"),
                    ModelPath = parse.GetValue(modelPath),
                    ModelName = parse.GetValue(modelName),
                    Threads = parse.GetValue(threads),
                },
                LogDirectory = parse.GetValue(logDir) ?? SharedLogDirectory.IfWritable(),
                Tls = TlsServerSettings.From(parse.GetValue(tlsCert), parse.GetValue(tlsKey)),
            };
            await using var miner = await MinerHost.BuildAsync(options, cancellationToken);
            await miner.RunAsync(cancellationToken);
            return 0;
        });

        var outPath = new Option<string>("--out") { Description = "Where to write the GGUF file", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 42 };
        var makeTestModel = new Command("make-test-model", "Write a tiny llama-architecture GGUF with random weights for the embedded backend") { outPath, seed };
        makeTestModel.SetAction(parse =>
        {
            var path = Path.GetFullPath(parse.GetValue(outPath)!);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            TestModelWriter.Write(path, parse.GetValue(seed));
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length / 1024} KiB); run with --backend embedded --model-path {path}");
            return 0;
        });

        var keyDataDir = new Option<string>("--data-dir") { Description = "Miner home (AITBC_MINER_DATA_DIR)", DefaultValueFactory = _ => Env("AITBC_MINER_DATA_DIR") ?? defaults.DataDirectory };
        var keyFile = new Option<string?>("--miner-key") { Description = "Miner key file (default <data-dir>/config/miner_key.json; AITBC_MINER_KEY)" };
        var key = new Command("key", "Print the miner's address and public key (creating the key file, 0600, when missing): an admin needs the public key to issue the miner API key") { keyDataDir, keyFile };
        key.SetAction(parse =>
        {
            var options = new MinerOptions { DataDirectory = parse.GetValue(keyDataDir)!, MinerKeyPath = parse.GetValue(keyFile) ?? Env("AITBC_MINER_KEY") };
            using var minerKey = KeyFile.LoadOrCreate(options.EffectiveMinerKeyPath);
            Console.WriteLine($"address     {minerKey.Address}");
            Console.WriteLine($"public key  {minerKey.PublicKey.Base64}");
            Console.WriteLine($"key file    {options.EffectiveMinerKeyPath}");
            return 0;
        });

        return [start, key, makeTestModel];
    }

    /// <summary>Failures an operator causes (bad options, an unusable backend or key file): one line, not a stack trace.</summary>
    public static bool IsOperatorError(Exception e) =>
        e is ArgumentException or InvalidOperationException or InvalidDataException or FormatException or IOException
            or UnauthorizedAccessException or BackendOptionsException or InferenceException or Microsoft.Data.Sqlite.SqliteException;

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static int? EnvInt(string name) => int.TryParse(Env(name), out var value) ? value : null;

    private static Option<Uri?> UrlOption(string name, string description, string variable, Uri? fallback) => new(name)
    {
        Description = $"{description} ({variable})",
        DefaultValueFactory = _ => Env(variable) is { } text && Uri.TryCreate(text, UriKind.Absolute, out var url) ? url : fallback,
        // System.CommandLine 2.0 has no built-in parser for Uri.
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
            {
                return url;
            }
            result.AddError($"{name} must be an http(s) URL (got '{text}')");
            return null;
        },
    };

}
