using System.CommandLine;

namespace Aitbc.Cli.Infrastructure;

/// <summary>
/// The commands one executable offers under aitbc's global options: aitbc's own, or <c>aitbc-devnet</c>'s <c>up</c>
/// and <c>demo</c>. <see cref="Classify"/> names the failures of that executable's own libraries that a user can fix,
/// which <see cref="CliApp"/> then reports as one line and an exit code rather than a stack trace.
/// <see cref="RootName"/> is the name help shows for the root (the executable's own when null).
/// </summary>
internal sealed record CliProgram(string Description, Func<Func<ParseResult, CliContext>, IEnumerable<Command>> Commands,
    Func<Exception, (int Code, string Message)?>? Classify = null, string? RootName = null);
