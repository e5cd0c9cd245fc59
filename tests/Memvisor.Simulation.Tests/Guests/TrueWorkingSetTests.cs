using Memvisor.Scenarios;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;
using Memvisor.Testing;

namespace Memvisor.Simulation.Tests.Guests;

/// <summary>The true working set the guest keeps incrementally is the count a scan of every page gives.</summary>
public sealed class TrueWorkingSetTests
{
    [Fact]
    public void Incremental_count_equals_a_scan_of_every_page_through_phases_and_log_compactions()
    {
        // Two identical guests (same seed, same host size): A is asked the 2 s window every quarter second,
        // which it answers from its touch log; B is first asked a zero window, so that the 2 s window
        // starts before the last window asked for and B counts it by scanning its pages. A 1024-page
        // guest logs 2048 touches before it compacts its log: at 4,000 accesses/s plus kernel activity,
        // that happens about every half second, so the 120 checks cross dozens of compactions, and the
        // phases grow and shrink the working set (pages leave the window, freed ones come back).
        var options = new ToucherOptions
        {
            WorkingSetPages = 300,
            Pattern = AccessPattern.Zipf,
            ZipfExponent = 0.8,
            AccessesPerSecond = 4000,
            Phases = [new(8, 700), new(16, 100), new(24, 500)],
        };
        using var hostA = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        using var hostB = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var a = Guest(hostA.PowerOn("vm", 1024), GuestFlavour.Windows, new ToucherWorkload(options), kernelTouchesPerSecond: 50);
        var b = Guest(hostB.PowerOn("vm", 1024), GuestFlavour.Windows, new ToucherWorkload(options), kernelTouchesPerSecond: 50);
        var window = 2 * Second;
        var distinct = new HashSet<int>();
        for (var t = Second / 4; t <= 30 * Second; t += Second / 4)
        {
            a.RunUntil(t);
            b.RunUntil(t);
            Assert.Equal(a.NowNanoseconds, b.NowNanoseconds);
            var incremental = a.TouchedPages(window);
            _ = b.TouchedPages(0);
            var scanned = b.TouchedPages(window);
            Assert.Equal(scanned, incremental);
            distinct.Add(incremental);
        }

        // The check saw the working set move, not one value throughout.
        Assert.True(distinct.Count > 10, $"only {distinct.Count} distinct working-set sizes");
    }
}
