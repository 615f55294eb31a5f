namespace Aitbc.Coordinator.Chain;

/// <summary>
/// The right to be the one chain writer of a coordinator key. One process holds it at a time: in a single process it is
/// simply held (<see cref="LocalWriterRole"/>); coordinators sharing a PostgreSQL database take turns through a
/// session advisory lock (<see cref="Cluster.PostgresWriterRole"/>).
/// </summary>
public interface IWriterRole
{
    /// <summary>Waits until this process holds the role.</summary>
    Task<IWriterLease> AcquireAsync(CancellationToken cancellationToken);
}

/// <summary>A held writer role; <see cref="Lost"/> fires when it can no longer be relied on (the lock's connection broke).</summary>
public interface IWriterLease : IAsyncDisposable
{
    CancellationToken Lost { get; }
}

/// <summary>The role of a coordinator that writes alone (SQLite, or the only process on its database): always held.</summary>
public sealed class LocalWriterRole : IWriterRole
{
    public Task<IWriterLease> AcquireAsync(CancellationToken cancellationToken) => Task.FromResult<IWriterLease>(new Lease());

    private sealed class Lease : IWriterLease
    {
        public CancellationToken Lost => CancellationToken.None;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
