using Memvisor.Scenarios;
using Memvisor.Simulation.Memory;
using Memvisor.Simulation.Workloads;

namespace Memvisor.Simulation.Guests;

/// <summary>
/// A Windows guest: a zero-page thread zeroes free pages in the background (all free memory after boot,
/// then every page freed later) and keeps them on a zeroed list from which demand-zero allocations are
/// served. Zeroing all of memory after boot touches every page: the spike after boot in the paper's
/// Figure 6, and afterwards zero pages the host can share.
/// </summary>
public sealed class WindowsGuest : GuestOs
{
    private double _zeroCredit;

    /// <summary>Creates a Windows guest (see <see cref="GuestOs.Create"/>).</summary>
    public WindowsGuest(GuestPhysicalMemory memory, GuestOsOptions options, IWorkload? workload = null, long startNanoseconds = 0)
        : base(memory, options, workload, startNanoseconds)
    {
    }

    /// <inheritdoc/>
    public override GuestFlavour Flavour => GuestFlavour.Windows;

    /// <inheritdoc/>
    protected override void RunFlavourBackground(double seconds)
    {
        _zeroCredit += Options.ZeroPageThreadPagesPerSecond * seconds;
        var pages = (int)Math.Min(_zeroCredit, int.MaxValue);
        var zeroed = ZeroFreePages(pages);
        Counters.PagesZeroedByThread += zeroed;
        // Credit does not accumulate while there is nothing to zero.
        _zeroCredit = zeroed < pages ? 0 : _zeroCredit - zeroed;
    }
}
