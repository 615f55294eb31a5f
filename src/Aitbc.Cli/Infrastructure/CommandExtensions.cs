using System.CommandLine;
using Aitbc.Core;

namespace Aitbc.Cli.Infrastructure;

/// <summary>Helpers the command builders share.</summary>
internal static class CommandExtensions
{
    /// <summary>Runs <paramref name="action"/> with a context resolved from this invocation's options.</summary>
    public static Command WithAction(this Command command, Func<ParseResult, CliContext> context, Func<CliContext, ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction((parse, cancellationToken) => action(context(parse), parse, cancellationToken));
        return command;
    }

    /// <summary>Parses an AITBC amount given by a user; a bad one is a usage error naming the option.</summary>
    public static Amount ParseAmount(string? text, string option)
    {
        if (!Amount.TryParseAitbc(text?.Trim(), out var amount))
        {
            throw new CliUsageException($"{option} '{text}' is not an amount; write AITBC as a decimal like 0.25 (no sign, at most 6 decimals)");
        }
        return amount;
    }

    public static Address ParseAddress(string? text, string option) =>
        Address.TryParse(text?.Trim(), out var address)
            ? address
            : throw new CliUsageException($"{option} '{text}' is not an address; an address looks like aitbc1… (see 'aitbc wallet address')");

    /// <summary>An amount as the CLI prints it in text: <c>0.25 AITBC</c>.</summary>
    public static string Show(this Amount amount) => $"{amount.ToAitbcString()} AITBC";
}
