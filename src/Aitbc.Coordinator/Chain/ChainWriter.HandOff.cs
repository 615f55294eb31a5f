using Aitbc.Coordinator.Storage;

namespace Aitbc.Coordinator.Chain;

/// <summary>What became of a new job handed to the chain writer (<see cref="ChainWriter.HandOff"/>).</summary>
public enum HandOffResult
{
    /// <summary>Stored with its submit_job row (signed, in the writer's flight, or alone when the flight could not be stored); the decision follows.</summary>
    Stored,

    /// <summary>Not stored, and never will be by the writer (it stopped writing first): the submitter stores it.</summary>
    NotTaken,

    /// <summary>Not stored: its decision (the node could not be asked to sign) is published already.</summary>
    Withdrawn,
}

/// <summary>
/// The chain writer's third duty: new jobs handed to it by the request path of its own process. Storing a job with an
/// unsigned row, reading the row back in the writer and recording its signature costs two statements and a read per job;
/// a job handed over is signed first and inserted with its signature, in the transaction that records the flight.
/// Coordinators that do not hold the writer role store the job themselves, as before, and the writer finds its row.
/// </summary>
public sealed partial class ChainWriter
{
    private readonly Queue<Handed> _handed = new();
    private bool _takingHandOffs;

    /// <summary>
    /// Hands a new job and its unsigned submit_job row to this process's writer, for its next flight; null when this process
    /// does not write (the submitter stores the job itself). The task ends once the job is stored or given back, or fails
    /// with the error that kept this job from being stored.
    /// </summary>
    public Task<HandOffResult>? HandOff(JobRecord job, OutboxRecord submit)
    {
        var handed = new Handed(job, submit, new TaskCompletionSource<HandOffResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_handed)
        {
            if (!_takingHandOffs)
            {
                return null;
            }
            _handed.Enqueue(handed);
        }
        signal.Kick();
        return handed.Outcome.Task;
    }

    /// <summary>Starts or stops taking jobs handed over; on stopping, those still queued are given back to their submitters.</summary>
    private void TakeHandOffs(bool taking)
    {
        List<Handed> returned;
        lock (_handed)
        {
            _takingHandOffs = taking;
            returned = [.. _handed];
            _handed.Clear();
        }
        foreach (var handed in returned)
        {
            handed.Outcome.TrySetResult(HandOffResult.NotTaken);
        }
    }

    /// <summary>Jobs handed over and not yet taken into a flight (tests).</summary>
    internal int HandedWaiting
    {
        get
        {
            lock (_handed)
            {
                return _handed.Count;
            }
        }
    }

    private List<Handed> DequeueHanded(int max)
    {
        var taken = new List<Handed>();
        lock (_handed)
        {
            while (taken.Count < max && _handed.TryDequeue(out var handed))
            {
                taken.Add(handed);
            }
        }
        return taken;
    }

    private static List<System.Diagnostics.ActivityLink> SubmissionLinks(List<Handed> handed) =>
        [.. handed.Select(h => System.Diagnostics.ActivityContext.TryParse(h.Job.TraceParent, null, out var submitted) ? new System.Diagnostics.ActivityLink(submitted) : default)
            .Where(link => link.Context != default)];

    private sealed record Handed(JobRecord Job, OutboxRecord Submit, TaskCompletionSource<HandOffResult> Outcome);
}
