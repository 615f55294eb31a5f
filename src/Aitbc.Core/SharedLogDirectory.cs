namespace Aitbc.Core;

/// <summary>docs/architecture.md, "Operations": services log to /var/log/aitbc when it is writable, else to their data dir's logs/.</summary>
public static class SharedLogDirectory
{
    public const string Path = "/var/log/aitbc";

    /// <summary><see cref="Path"/> when this process can write there, else null (the caller falls back to its data dir).</summary>
    public static string? IfWritable()
    {
        try
        {
            if (Directory.Exists(Path))
            {
                var probe = System.IO.Path.Combine(Path, $".probe-{Environment.ProcessId}");
                File.WriteAllText(probe, "");
                File.Delete(probe);
                return Path;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
