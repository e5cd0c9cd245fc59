/*
 * What the double-paging experiment measures on real guests (§3.1): one guest that pages to its own swap
 * disk, squeezed to the same size once by its balloon and once by the host paging its RAM out at random;
 * per arm, over the window after the squeeze: the guest's swap traffic and major faults (balloon driver
 * statistics), the host's paging of its RAM (smaps Swap, and the host-wide pswpin/pswpout of
 * /proc/vmstat), and the agent's throughput. An arm that could not run says why.
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The setup of the real double-paging experiment.</summary>
/// <param name="MemoryMiB">The guest's memory.</param>
/// <param name="GuestSwapMiB">Its swap disk.</param>
/// <param name="TouchedMiB">What the agent allocates and touches at random (more than the guest's memory: it pages on its own).</param>
/// <param name="SqueezedMiB">The size both arms squeeze the guest to.</param>
/// <param name="SettleSeconds">Seconds after the squeeze before the window.</param>
/// <param name="WindowSeconds">The window.</param>
public sealed record RealDoublePagingSetup(int MemoryMiB, int GuestSwapMiB, int TouchedMiB, int SqueezedMiB, double SettleSeconds, double WindowSeconds);

/// <summary>One arm over its window.</summary>
/// <param name="GuestSwapOutMiB">Guest swap-outs (stat-swap-out).</param>
/// <param name="GuestSwapInMiB">Guest swap-ins (stat-swap-in).</param>
/// <param name="GuestMajorFaults">Guest major faults.</param>
/// <param name="HostSwapOutMiB">Host swap-outs (pswpout, host-wide).</param>
/// <param name="HostSwapInMiB">Host swap-ins (pswpin, host-wide).</param>
/// <param name="HostSwappedMiB">Guest RAM in host swap at the end (smaps Swap).</param>
/// <param name="ResidentMiB">Guest RAM resident at the end (smaps Rss).</param>
/// <param name="Throughput">The agent's touches per second.</param>
public sealed record RealDoublePagingArm(double GuestSwapOutMiB, double GuestSwapInMiB, double GuestMajorFaults, double HostSwapOutMiB, double HostSwapInMiB, double HostSwappedMiB, double ResidentMiB, double Throughput)
{
    /// <summary>The host's paging I/O, MiB.</summary>
    public double HostIoMiB => HostSwapOutMiB + HostSwapInMiB;
}

/// <summary>Everything the real double-paging experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Ballooning">The ballooned arm.</param>
/// <param name="HostPaging">The host-paging arm, or null when it could not run.</param>
/// <param name="HostPagingWhyNot">Why the host-paging arm did not run, or null.</param>
/// <param name="Simulator">The simulator's double-paging experiment at the same scale.</param>
public sealed record RealDoublePagingMeasurements(RealDoublePagingSetup Setup, RealDoublePagingArm Ballooning, RealDoublePagingArm? HostPaging, string? HostPagingWhyNot, ExperimentResult Simulator);
