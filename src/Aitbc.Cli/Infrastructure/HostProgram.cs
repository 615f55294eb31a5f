using System.Collections;

namespace Aitbc.Cli.Infrastructure;

/// <summary>
/// An executable that serves some of aitbc's commands in a process of its own, so that the CLI carries none of the
/// services (and none of LLamaSharp or Npgsql): <c>aitbc-devnet</c> for <c>up</c> and <c>demo</c>,
/// <c>aitbc-miner</c> for the miner daemon.
/// </summary>
/// <param name="FailureCode">What aitbc exits with when the host exits 1, if not 1 (which aitbc keeps for a failed job).</param>
internal sealed record HostProgram(string AssemblyName, string Project, string Variable, int? FailureCode = null)
{
    /// <summary>Speaks aitbc's exit codes already: it runs aitbc's own command line.</summary>
    public static readonly HostProgram Devnet = new("aitbc-devnet", "Aitbc.Devnet", "AITBC_DEVNET_DLL");

    /// <summary>
    /// Exits 1 for whatever an operator must fix (options, the backend, the key file): aitbc's usage error, as
    /// <c>aitbc miner start</c> answered when the CLI ran the daemon itself.
    /// </summary>
    public static readonly HostProgram Miner = new("aitbc-miner", "Aitbc.Miner", "AITBC_MINER_DLL", FailureCode: ExitCodes.Usage);

    public string Dll => AssemblyName + ".dll";

    /// <summary>aitbc's exit code for the host's.</summary>
    public int ExitCode(int hostExitCode) => hostExitCode == 1 && FailureCode is { } code ? code : hostExitCode;

    /// <summary>
    /// The host's dll: the one <see cref="Variable"/> names, else the one beside aitbc's own (an install that carries
    /// both), else the build output of the source tree aitbc itself was built in (its configuration, then Release).
    /// </summary>
    /// <exception cref="CliUsageException">None is there; the message says how to build it.</exception>
    public string Locate(IDictionary env, string cliDirectory, string command)
    {
        if (env[Variable] is string { Length: > 0 } named)
        {
            return File.Exists(named)
                ? Path.GetFullPath(named)
                : throw new CliUsageException($"'{command}' runs {Dll}, but {Variable} names {named}, which does not exist; {BuildHint}");
        }
        var beside = Path.Combine(cliDirectory, Dll);
        if (File.Exists(beside))
        {
            return beside;
        }
        foreach (var candidate in SourceTreeCandidates(cliDirectory))
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new CliUsageException($"'{command}' runs {Dll}, which is neither beside aitbc ({Path.TrimEndingDirectorySeparator(cliDirectory)}) nor built in its source tree; {BuildHint}");
    }

    private string BuildHint =>
        $"build it from the repository with 'dotnet build src/{Project} -c Release' (./scripts/aitbc does this for you), or set {Variable} to its path";

    private IEnumerable<string> SourceTreeCandidates(string cliDirectory)
    {
        var output = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(cliDirectory)));
        string? root = null;
        for (var dir = output; dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aitbc.slnx")))
            {
                root = dir.FullName;
                break;
            }
        }
        if (root is null)
        {
            yield break;
        }
        // aitbc built as src/Aitbc.Cli/bin/<configuration>/<framework>: look in the same place of the host's project first.
        if (output.Parent is { Parent.Name: "bin" } configuration)
        {
            yield return Path.Combine(root, "src", Project, "bin", configuration.Name, output.Name, Dll);
        }
        yield return Path.Combine(root, "src", Project, "bin", "Release", "net10.0", Dll);
    }
}
