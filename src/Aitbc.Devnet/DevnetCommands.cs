using System.CommandLine;
using Aitbc.Cli.Devnet;
using Aitbc.Cli.Infrastructure;
using Spectre.Console;

namespace Aitbc.Devnet;

/// <summary><c>aitbc up</c>: the whole network in this process, until Ctrl-C.</summary>
internal static class DevnetCommands
{
    /// <summary>Options <c>up</c> and <c>demo</c> share.</summary>
    internal sealed class NetworkOptions
    {
        public Option<string?> DataDir { get; } = new("--data-dir") { Description = "Where the network keeps its chain, jobs, keys and logs [default ~/.aitbc/devnet]" };

        public Option<string> Backend { get; } = new("--backend")
        {
            Description = "Miners' backend: embedded (the generated test model), ollama, openai, or auto (ollama when it answers on 11434, else embedded)",
            DefaultValueFactory = _ => "auto",
        };

        public Option<string?> BackendUrl { get; } = new("--backend-url") { Description = "The Ollama or OpenAI-compatible server [default http://127.0.0.1:11434 for ollama]" };

        public Option<int> Miners { get; } = new("--miners") { Description = "How many miners to run", DefaultValueFactory = _ => 1 };

        public Option<int?> PortBase { get; } = new("--port-base")
        {
            Description = "Coordinator on BASE, node on BASE+6, miners on BASE+10… [default 8000, so 8000/8006/8010; `demo` defaults to 0]; 0 picks free ports",
        };

        public Option<int?> CoordinatorPort { get; } = new("--coordinator-port") { Description = "Coordinator port (overrides --port-base)" };

        public Option<int?> NodePort { get; } = new("--node-port") { Description = "Node RPC port (overrides --port-base)" };

        public Option<int?> MinerPort { get; } = new("--miner-port") { Description = "First miner's port; the others follow (overrides --port-base)" };

        public Option<string?> Model { get; } = new("--model-path") { Description = "A GGUF file for the embedded backend [default: generate the tiny test model]" };

        public Option<string?> ModelName { get; } = new("--model-name") { Description = "Model name the embedded miners serve [default llama3.2:latest]" };

        public Option<bool> Verbose { get; } = new("--verbose") { Description = "Also print the services' logs to the console" };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { DataDir, Backend, BackendUrl, Miners, PortBase, CoordinatorPort, NodePort, MinerPort, Model, ModelName, Verbose })
            {
                command.Options.Add(option);
            }
            Backend.AcceptOnlyFromAmong("auto", "embedded", "ollama", "openai");
        }

        public DevnetOptions Read(ParseResult parse, string? defaultDataDir = null, int defaultPortBase = DevnetOptions.DefaultPortBase)
        {
            var options = new DevnetOptions();
            var backendUrl = parse.GetValue(BackendUrl);
            Uri? url = null;
            if (backendUrl is not null && (!Uri.TryCreate(backendUrl, UriKind.Absolute, out url) || url.Scheme is not ("http" or "https")))
            {
                throw new CliUsageException($"--backend-url '{backendUrl}' must be an http(s) URL, e.g. http://127.0.0.1:11434");
            }
            options = options with
            {
                DataDirectory = parse.GetValue(DataDir) ?? defaultDataDir ?? options.DataDirectory,
                Backend = parse.GetValue(Backend) switch
                {
                    "embedded" => DevnetBackend.Embedded,
                    "ollama" => DevnetBackend.Ollama,
                    "openai" => DevnetBackend.OpenAi,
                    _ => DevnetBackend.Auto,
                },
                BackendUrl = url,
                Miners = parse.GetValue(Miners),
                PortBase = parse.GetValue(PortBase) ?? defaultPortBase,
                CoordinatorPort = parse.GetValue(CoordinatorPort),
                NodePort = parse.GetValue(NodePort),
                MinerPort = parse.GetValue(MinerPort),
                ModelPath = parse.GetValue(Model),
                EmbeddedModelName = parse.GetValue(ModelName) ?? options.EmbeddedModelName,
                LogToConsole = parse.GetValue(Verbose),
            };
            try
            {
                return options.Validate();
            }
            catch (ArgumentException e)
            {
                throw new CliUsageException(e.Message);
            }
        }
    }

    public static Command Up(Func<ParseResult, CliContext> context)
    {
        var network = new NetworkOptions();
        var command = new Command("up", DevnetCommandLine.UpDescription);
        network.AddTo(command);
        return command.WithAction(context, async (ctx, parse, cancellationToken) =>
        {
            var options = network.Read(parse);
            await using var devnet = await StartAsync(ctx, options, cancellationToken).ConfigureAwait(false);
            if (!ctx.IsJson)
            {
                ctx.Console.WriteLine();
                ctx.Console.WriteLine($"AITBC devnet is up. In another shell:");
                ctx.Console.WriteLine($"  source {options.EnvPath}");
                ctx.Console.WriteLine($"  ./scripts/aitbc-cli.sh submit inference --prompt \"What is machine learning?\" --model {devnet.Models.FirstOrDefault() ?? "MODEL"} --wait");
                ctx.Console.WriteLine("Press Ctrl-C to stop.");
            }
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            if (!ctx.IsJson)
            {
                ctx.Console.WriteLine("stopping…");
            }
            return ExitCodes.Ok;
        });
    }

    internal static DevnetView View(LocalNetwork devnet, DevnetOptions options) =>
        new(LocalNetwork.Strip(devnet.CoordinatorUrl), LocalNetwork.Strip(devnet.NodeUrl), [.. devnet.MinerUrls.Select(LocalNetwork.Strip)],
            devnet.State.ChainId, devnet.Backend.ToString().ToLowerInvariant(), devnet.Models, options.EnvPath, options.DataDirectory);

    /// <summary>Starts the network, printing each step in text mode (and its JSON view unless <paramref name="quiet"/>).</summary>
    internal static async Task<LocalNetwork> StartAsync(CliContext ctx, DevnetOptions options, CancellationToken cancellationToken, bool quiet = false)
    {
        try
        {
            var devnet = await LocalNetwork.StartAsync(options, line =>
            {
                if (!ctx.IsJson)
                {
                    ctx.Console.WriteLine(line);
                }
            }, cancellationToken).ConfigureAwait(false);
            if (!quiet)
            {
                ctx.Write(View(devnet, options), _ => { });
            }
            return devnet;
        }
        catch (IOException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) || e.InnerException?.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) == true)
        {
            throw new CliUsageException($"a port is already in use ({e.Message}); is another network running? Stop it, or use --port-base 9000 (or 0 for free ports)");
        }
        catch (InvalidOperationException e)
        {
            throw new CliException(ExitCodes.ServerRefused, e.Message);
        }
    }
}
