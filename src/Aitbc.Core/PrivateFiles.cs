namespace Aitbc.Core;

/// <summary>
/// Directories and files only their owner may open: data directories 0700, database files 0600, whatever the umask.
/// Modes are set only on what is created here (an operator's own choice for an existing path stands). On Windows these
/// are plain creations: the profile's ACLs apply.
/// </summary>
public static class PrivateFiles
{
    /// <summary>rwx for the owner only.</summary>
    public const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>rw for the owner only.</summary>
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates directory <paramref name="path"/>, and any missing parent, as 0700.</summary>
    public static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        // Directory.CreateDirectory(path, mode) gives the mode to the last directory only; missing parents would get the umask's.
        var missing = new Stack<string>();
        for (var directory = Path.GetFullPath(path); directory is not null && !Directory.Exists(directory); directory = Path.GetDirectoryName(directory))
        {
            missing.Push(directory);
        }
        while (missing.TryPop(out var directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
        }
    }

    /// <summary>
    /// Creates <paramref name="path"/> as an empty 0600 file (and its directory as 0700) unless the file exists. For a
    /// SQLite database: SQLite opens an empty file as a new database, and creates its -wal and -shm files with the
    /// database file's mode.
    /// </summary>
    public static void CreateFile(string path)
    {
        CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = System.IO.FileMode.OpenOrCreate, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }
        using var _ = new FileStream(path, options);
    }
}
