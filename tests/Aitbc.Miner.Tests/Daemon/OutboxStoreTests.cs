using Aitbc.Miner.Outbox;
using Aitbc.Testing;

namespace Aitbc.Miner.Tests.Daemon;

public sealed class OutboxStoreTests : IDisposable
{
    private readonly string _dir = TempDir.Create("miner-outbox-store");

    public void Dispose() => TempDir.Delete(_dir);

    private OutboxStore Open() => new(Path.Combine(_dir, "outbox.db"));

    private static IEnumerable<(string, OutboxKind)> Kinds(OutboxStore store) => store.Pending().Select(m => (m.JobId, m.Kind));

    [Theory]
    [InlineData(OutboxKind.Complete)]
    [InlineData(OutboxKind.Fail)]
    public void A_jobs_outcome_replaces_its_undelivered_running_report_and_no_other_jobs(OutboxKind outcome)
    {
        using var store = Open();
        store.Add("job-a", OutboxKind.Status, "{}", 1);
        store.Add("job-b", OutboxKind.Status, "{}", 2);

        var id = store.Add("job-a", outcome, "{}", 3);

        Assert.Equal([("job-b", OutboxKind.Status), ("job-a", outcome)], Kinds(store));
        Assert.True(store.Contains(id));
    }

    [Fact]
    public void A_running_report_already_delivered_leaves_the_outcome_alone_and_the_replacement_survives_a_reopen()
    {
        using (var store = Open())
        {
            var running = store.Add("job-a", OutboxKind.Status, "{}", 1);
            store.Remove(running);
            Assert.False(store.Contains(running));
            store.Add("job-a", OutboxKind.Complete, "{\"result\":\"r\"}", 2);
            store.Add("job-b", OutboxKind.Status, "{}", 3);
            store.Add("job-b", OutboxKind.Fail, "{}", 4);
        }

        using var reopened = Open();
        Assert.Equal([("job-a", OutboxKind.Complete), ("job-b", OutboxKind.Fail)], Kinds(reopened));
        Assert.Equal("{\"result\":\"r\"}", reopened.Oldest()!.Body);
    }

    [Fact]
    public void The_outbox_and_its_directory_are_the_miners_alone()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var path = Path.Combine(_dir, "data", "outbox.db");
        using var store = new OutboxStore(path);
        store.Add("job-a", OutboxKind.Status, "{}", 1);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path + suffix));
        }
    }
}
