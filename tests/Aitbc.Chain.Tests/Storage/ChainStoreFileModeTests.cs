using Aitbc.Chain.Storage;

namespace Aitbc.Chain.Tests.Storage;

public sealed class ChainStoreFileModeTests
{
    [Fact]
    public void A_new_chain_store_and_its_directories_are_its_owners_alone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var root = Path.Combine(Path.GetTempPath(), "aitbc-chain-modes-" + Guid.NewGuid().ToString("N"));
        var dataDirectory = Path.Combine(root, "node", "data");
        try
        {
            using (var store = ChainStore.OpenInDirectory(dataDirectory))
            {
                // The -wal and -shm files exist while the store is open; SQLite gives them the database file's mode.
                var files = new[] { "", "-wal", "-shm" }.Select(suffix => Path.Combine(dataDirectory, "chain.db" + suffix)).Where(File.Exists).ToList();
                Assert.Equal(3, files.Count);
                foreach (var file in files)
                {
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                }
            }
            foreach (var directory in new[] { Path.Combine(root, "node"), dataDirectory })
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(directory));
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(root, recursive: true);
        }
    }
}
