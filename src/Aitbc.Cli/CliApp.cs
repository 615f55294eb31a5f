using System.Collections;
using System.CommandLine;
using System.CommandLine.Help;
using Aitbc.Cli.Admin;
using Aitbc.Cli.Chain;
using Aitbc.Cli.Devnet;
using Aitbc.Cli.Infrastructure;
using Aitbc.Cli.Jobs;
using Aitbc.Cli.Market;
using Aitbc.Cli.Miners;
using Aitbc.Cli.Receipts;
using Aitbc.Cli.Wallets;
using Aitbc.Client;
using Aitbc.Client.Http;
using Aitbc.Client.Node;
using Aitbc.Client.Rest;
using Aitbc.ServiceDefaults;
using Spectre.Console;

namespace Aitbc.Cli;

/// <summary>
/// The <c>aitbc</c> command: builds the command tree, runs one invocation and turns every failure into one readable
/// line on stderr and an exit code (<see cref="ExitCodes"/>). Writers and environment are parameters so tests run
/// the real commands in-process.
/// </summary>
public static class CliApp
{
    /// <summary>Runs <paramref name="args"/> and returns the exit code; never throws for a failure a user can cause.</summary>
    /// <param name="retry">Retry defaults for every service client (tests shorten the delays); the environment and config still adjust them.</param>
    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, IDictionary env, TextReader? stdin = null,
        bool interactive = false, CancellationToken cancellationToken = default, RetryOptions? retry = null) =>
        RunAsync(Root, args, stdout, stderr, env, stdin, interactive, cancellationToken, retry);

    /// <summary>
    /// Runs <paramref name="args"/> against <paramref name="program"/>'s commands with everything else of aitbc's:
    /// the global options, the settings, the output and the exit codes. <c>aitbc-devnet</c> serves <c>up</c> and
    /// <c>demo</c> this way, so they behave as they did inside the CLI.
    /// </summary>
    internal static async Task<int> RunAsync(CliProgram program, string[] args, TextWriter stdout, TextWriter stderr, IDictionary env, TextReader? stdin = null,
        bool interactive = false, CancellationToken cancellationToken = default, RetryOptions? retry = null)
    {
        ArgumentNullException.ThrowIfNull(program);
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        ArgumentNullException.ThrowIfNull(env);
        var console = CreateConsole(stdout, interactive);
        var globals = new GlobalOptions();
        CliContext? current = null;
        var root = BuildRoot(program, globals, parse =>
        {
            var settings = CliSettings.Resolve(env, parse.GetValue(globals.Output), parse.GetValue(globals.Node), parse.GetValue(globals.Url), parse.GetValue(globals.ApiKey), retry, parse.GetValue(globals.CaCert));
            current = new CliContext(settings, console, stdout, stdin ?? TextReader.Null, interactive)
            {
                PasswordFromEnvironment = env[PasswordSource.EnvVar] as string,
            };
            return current;
        });
        var parse = root.Parse(args);
        if (parse.CommandResult.Command is HostCommand host)
        {
            // The host parses, validates and answers --help itself, with these same options and messages.
            try
            {
                return await host.RunAsync(args, parse, env, AppContext.BaseDirectory, cancellationToken).ConfigureAwait(false);
            }
            catch (CliException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return e.ExitCode;
            }
        }
        var command = CommandPath(parse);
        if (parse.Errors.Count > 0)
        {
            // Some parser messages span lines (a list of allowed values); the contract is one line.
            var message = string.Join(' ', parse.Errors[0].Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            stderr.WriteLine($"error: {message} (see '{command} --help')");
            return ExitCodes.Usage;
        }
        // With OTEL_EXPORTER_OTLP_ENDPOINT set, the command is one trace: its span is the parent of every HTTP call it makes,
        // and the services it calls continue that trace (docs/observability.md). Not for a command that hosts services:
        // they trace themselves, and their work would all hang under one span as long as they run.
        var traced = !HostingCommands.Contains(command);
        using var tracing = traced
            ? ServiceTracing.ForCommandLine("aitbc", ClientTracing.Source.Name,
                env.Keys.OfType<string>().Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal)).Select(k => KeyValuePair.Create(k, env[k] as string)))
            : null;
        using var span = traced ? ClientTracing.Source.StartActivity(command) : null;
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                // Ctrl-C cancels the command's token; `aitbc up` then stops three services, which takes more than the default 2 s.
                ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when ((Classify(e, current) ?? program.Classify?.Invoke(e)) is { } failure)
        {
            stderr.WriteLine($"error: {failure.Message}");
            return failure.Code;
        }
    }

    /// <summary>The commands that run services in this process (<c>aitbc up</c>, <c>aitbc demo</c>, <c>aitbc miner start</c>).</summary>
    private static readonly HashSet<string> HostingCommands = new(StringComparer.Ordinal) { "aitbc up", "aitbc demo", "aitbc miner start" };

    /// <summary>The command as typed, without its arguments: <c>aitbc wallet send</c>.</summary>
    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            names.Insert(0, result.Parent is null ? "aitbc" : result.Command.Name);
        }
        return string.Join(' ', names);
    }

    /// <summary>The exit code and one-line message for a failure; null for a bug, which should surface as such.</summary>
    private static (int Code, string Message)? Classify(Exception e, CliContext? context) => e switch
    {
        CliException c => (c.ExitCode, c.Message),
        RestClientException r => CoordinatorErrors.Describe(r, context),
        NodeUnavailableException u => (ExitCodes.Unreachable, $"{u.Message}; is the node running? Set --node or AITBC_NODE_URL"),
        NodeRpcException r => (ExitCodes.ServerRefused, r.Message),
        NodeQueryException q => (ExitCodes.ServerRefused, q.Message),
        NodeProtocolException p => (ExitCodes.ServerRefused, $"{p.Message}; check that --node points at an aitbc node"),
        OperationCanceledException => (ExitCodes.Unreachable, "cancelled"),
        // A missing assembly is also an IOException; that is a broken install, a bug to show in full.
        IOException io when io is not (FileNotFoundException or FileLoadException) => (ExitCodes.Usage, io.Message),
        UnauthorizedAccessException ua => (ExitCodes.Usage, ua.Message),
        ArgumentException a when a.ParamName is { } name => (ExitCodes.Usage, a.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal)),
        ArgumentException => (ExitCodes.Usage, e.Message),
        _ => null,
    };

    /// <summary>A Spectre console over <paramref name="stdout"/>: colour and prompts only at a real terminal.</summary>
    private static IAnsiConsole CreateConsole(TextWriter stdout, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(stdout),
        });
        if (!interactive)
        {
            // Piped output is read by programs: do not wrap 64-digit hashes at 80 columns.
            console.Profile.Width = 240;
        }
        return console;
    }

    /// <summary>aitbc's own commands; <c>up</c>, <c>demo</c> and the miner daemon's commands run the hosts that serve them.</summary>
    private static readonly CliProgram Root = new("""
        aitbc: the AITBC command line: submit AI jobs, check receipts, browse the market, manage wallets and miners.

        Examples:
          aitbc submit inference --prompt "What is machine learning?" --model llama3.2:latest --wait
          aitbc status job_123456
          aitbc receipt verify receipt_789
          aitbc market miners
          aitbc wallet create alice
          aitbc blockchain info --output json

        Exit codes: 0 ok, 1 job failed or cancelled, 2 usage, 3 unreachable, 4 key refused, 5 other refusal.
        """, context =>
    [
        DevnetCommandLine.Up(),
        DevnetCommandLine.Demo(),
        JobCommands.Submit(context),
        JobCommands.Status(context),
        JobCommands.Jobs(context),
        JobCommands.Ai(context),
        ReceiptCommands.Build(context),
        MarketCommands.Build(context),
        MinerCommands.Build(context),
        AdminCommands.Build(context),
        WalletCommands.Build(context),
        BlockchainCommands.Build(context),
    ]);

    private static Command BuildRoot(CliProgram program, GlobalOptions globals, Func<ParseResult, CliContext> context)
    {
        // A RootCommand takes the executable's name; a host serving aitbc's commands names itself aitbc in their help.
        var root = program.RootName is { } name ? new Command(name, program.Description) { new HelpOption() } : new RootCommand(program.Description);
        foreach (var option in globals.All)
        {
            root.Options.Add(option);
        }
        foreach (var command in program.Commands(context))
        {
            root.Subcommands.Add(command);
        }
        return root;
    }
}

/// <summary>Options every command accepts (recursive from the root).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> Output { get; } = new("--output", "-o") { Description = "Output format: text (for people) or json (stable, for scripts)", Recursive = true };

    public Option<string?> Node { get; } = new("--node") { Description = "Node RPC URL [env AITBC_NODE_URL, default http://127.0.0.1:8006]", Recursive = true };

    public Option<string?> Url { get; } = new("--url") { Description = "Coordinator URL [env AITBC_URL, default http://127.0.0.1:8000]", Recursive = true };

    public Option<string?> ApiKey { get; } = new("--api-key") { Description = "Coordinator key [env CLIENT_API_KEY; admin commands: env AITBC_ADMIN_KEY or ADMIN_API_KEY]", Recursive = true };

    public Option<string?> CaCert { get; } = new("--ca-cert") { Description = "PEM file of a CA (or self-signed server certificate) to trust for https URLs [env AITBC_CA_CERT]", Recursive = true };

    public IEnumerable<Option> All => [Output, Node, Url, ApiKey, CaCert];

    public GlobalOptions() => Output.AcceptOnlyFromAmong("text", "json");
}
