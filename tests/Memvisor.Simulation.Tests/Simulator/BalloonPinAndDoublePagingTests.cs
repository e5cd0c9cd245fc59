/*
 * Two things the simulator reports for the experiments of paper §3: a VM whose balloon target is fixed
 * in its scenario (balloonTargetMB) is ballooned to that size even when the host has memory to spare,
 * and double paging (the guest reading a page the host swapped out, only to write it to its own disk)
 * shows per interval in the samples. Short runs on small hosts.
 */
using Memvisor.Scenarios;
using Memvisor.Simulation;

namespace Memvisor.Simulation.Tests.Simulator;

public class BalloonPinAndDoublePagingTests
{
    private static SimulationResult Run(Scenario scenario)
    {
        using var host = new SimulatedHost(scenario);
        return host.Run(null, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void A_vm_with_a_fixed_balloon_target_is_ballooned_to_it_on_a_host_with_memory_to_spare()
    {
        var pinned = ScenarioReader.Parse("""
            { "durationSeconds": 8, "host": { "memoryMB": 512, "swapMB": 256 },
              "vms": [ { "name": "vm", "memoryMB": 64, "balloonTargetMB": 24, "workload": { "kind": "toucher", "workingSetMB": 8 } } ] }
            """);
        var free = pinned with { Vms = [pinned.Vms[0] with { BalloonTargetMB = null }] };

        var last = Run(pinned).Samples[^1];
        var unpinned = Run(free).Samples[^1];

        // 512 MB for one 64 MB VM: the host stays in the high state and would ask for no balloon at all.
        Assert.Equal("high", last.State);
        Assert.Equal(24, last.Vms[0].BalloonTargetMB);
        Assert.Equal(24, last.Vms[0].BalloonMB);
        Assert.Equal(0, unpinned.Vms[0].BalloonMB);
        Assert.Equal(0, unpinned.Vms[0].BalloonTargetMB);
    }

    [Fact]
    public void Double_paging_shows_per_interval_when_the_host_swaps_a_guest_without_a_balloon()
    {
        // A 64 MB guest on a 48 MB host without a balloon driver, touching 80 MB: the guest swaps to its own
        // disk, and the host swaps it at random too, so the guest picks for its swap pages the host swapped.
        var scenario = ScenarioReader.Parse("""
            { "durationSeconds": 40, "host": { "memoryMB": 48, "swapMB": 512, "sharing": false },
              "vms": [ { "name": "vm", "memoryMB": 64, "overheadMB": 2, "balloonDriver": "absent",
                         "workload": { "kind": "toucher", "workingSetMB": 80 } } ] }
            """);

        var samples = Run(scenario).Samples;
        var doublePaging = samples.Sum(s => s.Vms[0].DoublePagingPages);

        Assert.True(samples.Max(s => s.Vms[0].SwappedMB) > 0, "the host swapped the VM");
        Assert.True(doublePaging > 0, $"double paging pages: {doublePaging}; guest swap I/O {samples.Sum(s => s.Vms[0].GuestSwapPages)} pages");
        // Per interval, not cumulative: no interval holds more than all of them, and a pure count is whole.
        Assert.All(samples, s => Assert.True(s.Vms[0].DoublePagingPages >= 0 && s.Vms[0].DoublePagingPages == Math.Floor(s.Vms[0].DoublePagingPages)));
        Assert.True(samples.Count(s => s.Vms[0].DoublePagingPages > 0) > 1, "double paging in more than one interval");
    }
}
