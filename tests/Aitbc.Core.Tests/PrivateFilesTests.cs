namespace Aitbc.Core.Tests;

/// <summary>Owner-only directories and files, missing parents included, whatever the umask.</summary>
public sealed class PrivateFilesTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "aitbc-private-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void A_file_and_every_directory_created_for_it_are_owner_only_and_an_existing_file_is_kept()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var path = Path.Combine(_dir, "home", "data", "store.db");
        PrivateFiles.CreateFile(path);

        foreach (var directory in new[] { _dir, Path.Combine(_dir, "home"), Path.Combine(_dir, "home", "data") })
        {
            Assert.Equal(PrivateFiles.DirectoryMode, File.GetUnixFileMode(directory));
        }
        Assert.Equal(PrivateFiles.FileMode, File.GetUnixFileMode(path));

        File.WriteAllText(path, "kept");
        PrivateFiles.CreateFile(path);
        Assert.Equal("kept", File.ReadAllText(path));
    }
}
