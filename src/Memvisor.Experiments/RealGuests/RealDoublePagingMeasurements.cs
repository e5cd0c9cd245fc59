/*
 * What the double-paging experiment measures on real guests (§3.1): one guest that pages to its own swap
 * disk, its RAM backed by a file on disk, squeezed to the same size once by its balloon and once by the
 * host paging its RAM out at random to that file; per arm, over the window after the squeeze: the
 * guest's swap traffic and major faults (balloon driver statistics), the host's paging of its RAM (what
 * the pager reclaimed and wrote back, QEMU's major faults and reads from disk), what the host holds of
 * the guest's RAM at the end, and the agent's throughput. An arm that could not run says why.
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
/// <param name="HostPageOutMiB">Guest RAM the host pager reclaimed (the drop of the RAM file's page cache across its calls; 0 when ballooned).</param>
/// <param name="HostWrittenBackMiB">Dirty guest RAM the pager wrote to the file before dropping it (the rest was already written back by the kernel's flusher).</param>
/// <param name="HostPageInMiB">What QEMU read from disk (/proc/PID/io read_bytes: its RAM file's page-ins, readahead included).</param>
/// <param name="HostMajorFaults">QEMU's major faults (/proc/PID/stat majflt).</param>
/// <param name="HeldMiB">Guest RAM the host holds at the end: the RAM file's pages in the page cache (cachestat).</param>
/// <param name="MeanHeldMiB">The same, averaged over the window (sampled every squeeze step; host-paging: midway between before and after each page-out).</param>
/// <param name="ResidentMiB">Guest RAM mapped at the end (smaps Rss).</param>
/// <param name="Throughput">The agent's touches per second.</param>
public sealed record RealDoublePagingArm(double GuestSwapOutMiB, double GuestSwapInMiB, double GuestMajorFaults, double HostPageOutMiB, double HostWrittenBackMiB, double HostPageInMiB, double HostMajorFaults, double HeldMiB, double MeanHeldMiB, double ResidentMiB, double Throughput)
{
    /// <summary>The host's paging I/O, MiB: pages it took out plus pages read back.</summary>
    public double HostIoMiB => HostPageOutMiB + HostPageInMiB;
}

/// <summary>Everything the real double-paging experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Ballooning">The ballooned arm.</param>
/// <param name="HostPaging">The host-paging arm, or null when it could not run.</param>
/// <param name="HostPagingWhyNot">Why the host-paging arm did not run, or null.</param>
/// <param name="Simulator">The simulator's double-paging experiment at the same scale.</param>
public sealed record RealDoublePagingMeasurements(RealDoublePagingSetup Setup, RealDoublePagingArm Ballooning, RealDoublePagingArm? HostPaging, string? HostPagingWhyNot, ExperimentResult Simulator);
