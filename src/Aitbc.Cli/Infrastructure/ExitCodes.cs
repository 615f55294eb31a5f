namespace Aitbc.Cli.Infrastructure;

/// <summary>The exit codes scripts can rely on (issue 5): one meaning each.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int JobFailed = 1;
    public const int Usage = 2;
    public const int Unreachable = 3;
    public const int AuthRefused = 4;
    public const int ServerRefused = 5;
}

/// <summary>A failure the CLI reports as one line on stderr with a given exit code; the message says what to do next.</summary>
public class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>The command line or its inputs are wrong (exit 2).</summary>
public sealed class CliUsageException(string message) : CliException(ExitCodes.Usage, message);

/// <summary>A service refused the request (exit 5).</summary>
public sealed class CliRefusedException(string message) : CliException(ExitCodes.ServerRefused, message);

/// <summary>A secret was refused: a wrong wallet password, a rejected key (exit 4).</summary>
public sealed class CliAuthException(string message) : CliException(ExitCodes.AuthRefused, message);
