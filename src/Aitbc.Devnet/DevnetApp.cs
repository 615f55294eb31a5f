using System.Collections;
using Aitbc.Cli;
using Aitbc.Cli.Infrastructure;
using Aitbc.Miner.Backends;

namespace Aitbc.Devnet;

/// <summary>
/// <c>aitbc-devnet</c>: <c>up</c> and <c>demo</c> with aitbc's global options, output and exit codes. <c>aitbc up</c>
/// and <c>aitbc demo</c> run it with their whole command line; it runs as well on its own.
/// </summary>
internal static class DevnetApp
{
    private static readonly CliProgram Program = new("""
        aitbc-devnet: a whole local AITBC network in one process (node, coordinator, miners) for 'aitbc up' and 'aitbc demo'.

        Examples:
          aitbc up
          aitbc demo
        """,
        context => [DevnetCommands.Up(context), DemoCommand.Build(context)],
        // The miners' backend: a model file or server the user must fix.
        e => e is BackendOptionsException or InferenceException ? (ExitCodes.Usage, e.Message) : null,
        // `aitbc up --help` shows this host's help; its usage lines read as the command the user typed.
        RootName: "aitbc");

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, IDictionary env, TextReader? stdin = null,
        bool interactive = false, CancellationToken cancellationToken = default) =>
        CliApp.RunAsync(Program, args, stdout, stderr, env, stdin, interactive, cancellationToken);
}
