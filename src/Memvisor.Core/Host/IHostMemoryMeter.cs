using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;

namespace Memvisor.Core.Host;

/// <summary>
/// The measurement port of <see cref="HostMemoryPolicy"/>: what a substrate reports about the host and
/// each VM the policy was given (<see cref="HostMemoryPolicy.Add"/>). Everything is in 4 KiB pages. Reads
/// change nothing a VM gets; the working-set probe's <see cref="IWorkingSetProbe.EndSamplingPeriod"/>
/// restarts a count (like reading a clear-on-read counter). Called on every policy tick: an
/// implementation must not allocate, and may serve costly parts from its last
/// <see cref="MeasureConsumedPages"/>.
/// </summary>
public interface IHostMemoryMeter : IWorkingSetProbe
{
    /// <summary>Machine memory the VMs and their overhead live in (owning: the pool; managing: the host RAM given to guests).</summary>
    long MachinePages { get; }

    /// <summary>Machine pages free now.</summary>
    long FreePages { get; }

    /// <summary>Swap (or other backing store for paged-out guest memory) the host has, for admission control.</summary>
    long SwapCapacityPages { get; }

    /// <summary>
    /// What the VM consumes now: its private resident pages plus its part of shared ones. Cheap: a
    /// substrate may take parts that are costly to count (the savings of sharing) from the last
    /// <see cref="MeasureConsumedPages"/>.
    /// </summary>
    double ConsumedPages(VmId vm);

    /// <summary>What the VM consumes, counted exactly (at each rebalance).</summary>
    double MeasureConsumedPages(VmId vm);

    /// <summary>The VM's pages paged out by the host.</summary>
    int PagedOutPages(VmId vm);

    /// <summary>Pages in the VM's balloon now.</summary>
    int BalloonPages(VmId vm);

    /// <summary>The balloon size in force (the policy's last target, or a pinned one).</summary>
    int BalloonTargetPages(VmId vm);

    /// <summary>How many more pages the VM's balloon can take now: 0 when its driver is absent, disabled, at its limit or unresponsive.</summary>
    int BalloonDeliverablePages(VmId vm);

    /// <summary>True when someone other than the policy fixed the VM's balloon target (the policy then leaves it alone).</summary>
    bool IsBalloonPinned(VmId vm);

    /// <summary>
    /// The VM's execution time since it was given to the policy: time in which it ran, not time in which
    /// it was blocked, descheduled or stalled (periods the paper defines in VM time run on this).
    /// </summary>
    TimeSpan ExecutionTime(VmId vm);

    /// <summary>
    /// Pages the substrate's swap device can write within <paramref name="horizon"/> after what it has queued;
    /// null when the substrate does not model its device (the policy then paces paging at
    /// <see cref="HostPolicyOptions.SwapWritePagesPerSecond"/> with one second of credit).
    /// </summary>
    int? SwapWritablePages(TimeSpan horizon) => null;
}
