using Aitbc.Coordinator.Tests.Infrastructure;

namespace Aitbc.Coordinator.Tests.Storage;

[Collection(CoordinatorCollection.Name)]
public sealed class FilePermissionTests(CoordinatorFixture fixture)
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    [Fact]
    public async Task The_coordinators_data_directories_and_database_files_are_its_owners_alone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var home = Path.Combine(TempDir.Create("coordinator-modes"), "home");
        await using var coordinator = await fixture.StartOwnCoordinatorAsync(o => o, home);
        using var admin = coordinator.Http(RunningCoordinator.AdminKey);
        // A write, so that SQLite has made its -wal and -shm files.
        await CoordinatorFixture.CreateKeyAsync(admin, new { role = "client", address = fixture.Node.Funded[0].Address.Value });

        foreach (var directory in new[] { home, coordinator.Options.ConfigDirectory, Path.GetDirectoryName(coordinator.Options.DatabasePath)!, coordinator.Options.EffectiveLogDirectory })
        {
            Assert.Equal(OwnerOnlyDirectory, File.GetUnixFileMode(directory));
        }
        var files = new[] { "", "-wal", "-shm" }.Select(suffix => coordinator.Options.DatabasePath + suffix).Where(File.Exists).ToList();
        Assert.Equal(3, files.Count);
        foreach (var file in files)
        {
            Assert.Equal(OwnerOnlyFile, File.GetUnixFileMode(file));
        }
    }
}
