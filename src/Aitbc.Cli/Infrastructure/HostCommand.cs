using System.Collections;
using System.CommandLine;
using System.CommandLine.Parsing;

namespace Aitbc.Cli.Infrastructure;

/// <summary>
/// A command another executable serves (<see cref="HostProgram"/>): aitbc lists it in its help and, when it is the
/// command given, runs that executable with the command line and returns its exit code. The host parses the options
/// and answers <c>--help</c>, so each option is defined once, where it is used.
/// </summary>
internal sealed class HostCommand : Command
{
    /// <param name="wholeCommandLine">
    /// Pass aitbc's whole command line (the host offers aitbc's global options and this command's name), rather than
    /// the host's own command name and what follows it.
    /// </param>
    public HostCommand(string name, string description, HostProgram program, bool wholeCommandLine) : base(name, description)
    {
        Program = program;
        WholeCommandLine = wholeCommandLine;
        TreatUnmatchedTokensAsErrors = false;
    }

    public HostProgram Program { get; }

    public bool WholeCommandLine { get; }

    public async Task<int> RunAsync(string[] args, ParseResult parse, IDictionary env, string cliDirectory, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as CommandResult)
        {
            names.Insert(0, result.Parent is null ? "aitbc" : result.Command.Name);
        }
        var dll = Program.Locate(env, cliDirectory, string.Join(' ', names));
        return Program.ExitCode(await HostProcess.RunAsync(dll, WholeCommandLine ? args : HostArguments(parse), cancellationToken).ConfigureAwait(false));
    }

    /// <summary>This command's name and every token after it: <c>aitbc miner start --port 8010</c> runs <c>aitbc-miner start --port 8010</c>.</summary>
    private static string[] HostArguments(ParseResult parse)
    {
        var self = parse.CommandResult.IdentifierToken;
        return [.. parse.Tokens.SkipWhile(t => !ReferenceEquals(t, self)).Select(t => t.Value)];
    }
}
