namespace Aitbc.Node.Tests.Infrastructure;

/// <summary>Where things are: the built node next to the tests, and the repository root above them.</summary>
public static class RepoPaths
{
    /// <summary>aitbc-node.dll, copied into the test output by the project reference (same configuration as the tests).</summary>
    public static string NodeDll
    {
        get
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "aitbc-node.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException($"aitbc-node.dll is not in the test output {AppContext.BaseDirectory}; build tests/Aitbc.Node.Tests", dll);
        }
    }

    /// <summary>The repository root: the first folder above the test binaries that holds Aitbc.slnx.</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Aitbc.slnx")))
                {
                    return dir.FullName;
                }
            }
            throw new DirectoryNotFoundException($"no Aitbc.slnx above {AppContext.BaseDirectory}");
        }
    }

    public static string JsDirectory => Path.Combine(RepoRoot, "tests", "Aitbc.Node.Tests", "js");
}
