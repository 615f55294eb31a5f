using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Chain;

/// <summary>
/// Outbox rows the submission writer has stored with signed bytes and is still taking to the node: it signs and stores
/// the next group while the one before it is broadcast, outside the sender's lock. The outbox worker must not deliver a
/// held row, nor any row after it (rows go to the chain in id order, so a job's refund never overtakes its escrow). When
/// a hold ends it wakes the worker, if a row of the worker's was kept waiting behind a held one.
/// </summary>
public sealed class HeldOutboxRows(OutboxSignal signal)
{
    private readonly Lock _lock = new();
    private readonly List<Hold> _holds = [];
    private long _from = long.MaxValue;
    private int _workerStopped;

    /// <summary>The lowest held row id, or <see cref="long.MaxValue"/> when none is held.</summary>
    public long From => Volatile.Read(ref _from);

    /// <summary>
    /// Holds every row stored from now on (a group's ids are known only once it is stored), until
    /// <see cref="Hold.Narrow"/> names the group's rows.
    /// </summary>
    public Hold HoldNew()
    {
        var hold = new Hold(this);
        lock (_lock)
        {
            _holds.Add(hold);
            Refresh();
        }
        return hold;
    }

    /// <summary>
    /// The leading rows of <paramref name="due"/> (in id order) that the worker may deliver now. When that stops a row
    /// that is not held itself (the writer records its own rows), it is remembered before the floor is read again, so
    /// the hold's end wakes the worker for it.
    /// </summary>
    public IReadOnlyList<OutboxRecord> Deliverable(IReadOnlyList<OutboxRecord> due)
    {
        if (due.Count == 0 || due[^1].Id < From)
        {
            return due;
        }
        bool ownRowWaits;
        lock (_lock)
        {
            // A row seen while a group is still being stored may be anyone's: it counts as the worker's own.
            ownRowWaits = due.Any(r => r.Id >= _from && !_holds.Any(h => h.Ids is { } ids && ids.Contains(r.Id)));
        }
        if (ownRowWaits)
        {
            Interlocked.Exchange(ref _workerStopped, 1);
        }
        var from = From;
        return [.. due.TakeWhile(r => r.Id < from)];
    }

    /// <summary>Whether the worker must leave <paramref name="row"/> (and the rows after it) to the writer for now.</summary>
    public bool Holds(OutboxRecord row) => row.Id >= From;

    private void Refresh() => Volatile.Write(ref _from, _holds.Count == 0 ? long.MaxValue : _holds.Min(h => h.Ids is { } ids ? ids.Min() : long.MinValue));

    private void Released()
    {
        // After the floor moved: a worker that read the old floor had flagged it first, so its wake-up is not lost.
        if (Interlocked.Exchange(ref _workerStopped, 0) == 1)
        {
            signal.Kick();
        }
    }

    /// <summary>One group's hold: every new row until narrowed to the group's rows; disposing it lets them go.</summary>
    public sealed class Hold(HeldOutboxRows owner) : IDisposable
    {
        internal HashSet<long>? Ids { get; private set; }

        /// <summary>Holds only the group's rows, <paramref name="rowIds"/>, once they are stored.</summary>
        public void Narrow(IEnumerable<long> rowIds)
        {
            lock (owner._lock)
            {
                Ids = [.. rowIds];
                owner.Refresh();
            }
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                if (!owner._holds.Remove(this))
                {
                    return;
                }
                owner.Refresh();
            }
            owner.Released();
        }
    }
}
