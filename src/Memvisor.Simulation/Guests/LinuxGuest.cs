using Memvisor.Scenarios;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Guests;

/// <summary>
/// A Linux guest: one free list; freed pages keep their stale contents, and anonymous memory is zeroed
/// by the guest when it is first touched. Untouched memory stays untouched, so the host never backs it.
/// </summary>
public sealed class LinuxGuest : GuestOs
{
    /// <summary>Creates a Linux guest (see <see cref="GuestOs.Create"/>).</summary>
    public LinuxGuest(GuestPhysicalMemory memory, GuestOsOptions options, IWorkload? workload = null, long startNanoseconds = 0)
        : base(memory, options, workload, startNanoseconds)
    {
    }

    /// <inheritdoc/>
    public override GuestFlavour Flavour => GuestFlavour.Linux;
}
