using Aitbc.Core.Threading;

namespace Aitbc.Coordinator.Cluster;

/// <summary>
/// A wake-up that, in a coordinator cluster, also reaches the same worker in the other processes: <see cref="Kick"/>
/// wakes this process's worker and hands the kick to <see cref="Relay"/> (set by <see cref="ClusterBus"/>); a kick
/// relayed from another process arrives through <see cref="WakeSignal.KickLocal"/>.
/// </summary>
public abstract class RelayedSignal : WakeSignal
{
    /// <summary>Tells the other processes; null in a coordinator that runs alone.</summary>
    public Action? Relay { get; set; }

    public override void Kick()
    {
        KickLocal();
        Relay?.Invoke();
    }
}
