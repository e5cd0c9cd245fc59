/*
 * Workloads: what runs inside a simulated guest. A workload is driven in simulated time: the guest
 * calls Run(guest, until) and the workload performs operations (page reads and writes through the
 * guest, CPU work with GuestOs.Compute) until the guest's clock reaches until. Every fault stall and
 * every virtual-disk I/O the guest charges takes time from the workload, so its throughput (work units
 * per simulated second, GuestCounters.WorkUnits) falls when the VM is short of memory.
 *
 * An access stands for a batch of work on one page (a few thousand per simulated second and VM), not
 * a single load: what matters to the host is which pages are touched and when.
 */
using Memvisor.Simulation.Guests;

namespace Memvisor.Simulation.Workloads;

/// <summary>A workload running in a simulated guest.</summary>
public interface IWorkload
{
    /// <summary>A short name for tables, as scenarios name the kind ("toucher", "fileserver", ...).</summary>
    string Name { get; }

    /// <summary>What one work unit is ("accesses", "operations", ...).</summary>
    string WorkUnit { get; }

    /// <summary>Called once when the guest has booted: creates the workload's memory and files.</summary>
    void Attach(GuestOs guest);

    /// <summary>Runs until <see cref="GuestOs.NowNanoseconds"/> reaches <paramref name="untilNanoseconds"/> (it may overrun by one operation).</summary>
    void Run(GuestOs guest, long untilNanoseconds);
}
