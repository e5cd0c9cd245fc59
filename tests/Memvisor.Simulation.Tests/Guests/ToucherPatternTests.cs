using Memvisor.Scenarios;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class ToucherPatternTests
{
    /// <summary>Pages the toucher touched in the window of one pass over its 1,000-page working set (2,000 accesses/s: 0.5 s).</summary>
    private static int TouchedInOnePass(AccessPattern pattern)
    {
        using var host = new SimulatedTestHost(machinePages: 4096, swapPages: 4096);
        var toucher = new ToucherWorkload(new ToucherOptions { WorkingSetPages = 1000, Pattern = pattern, StridePages = 7 });
        var guest = Guest(host.PowerOn("vm", 2048), GuestFlavour.Linux, toucher);
        guest.RunUntil(3 * Second);
        Assert.Equal(0, guest.Counters.DataMismatches);
        return guest.TouchedPages(Second / 2);
    }

    [Theory]
    [InlineData(AccessPattern.Cyclic)]
    [InlineData(AccessPattern.Strided)]
    public void A_cyclic_or_strided_toucher_covers_its_whole_working_set_in_every_pass(AccessPattern pattern) =>
        Assert.Equal(1000, TouchedInOnePass(pattern));

    [Fact]
    public void A_uniform_toucher_touches_only_part_of_it_in_the_same_time()
    {
        // 1,000 uniform draws over 1,000 pages touch about 1 - 1/e of them.
        Assert.InRange(TouchedInOnePass(AccessPattern.Uniform), 580, 680);
    }

    [Fact]
    public void The_pattern_is_read_from_a_scenario()
    {
        var scenario = ScenarioReader.Parse("""
            { "vms": [ { "name": "a", "memoryMB": 64, "workload": { "kind": "toucher", "distribution": "strided" } } ] }
            """);
        var toucher = Assert.IsType<ToucherWorkload>(Simulation.Guests.GuestCatalog.Workload(scenario.Vms[0].Workload));
        Assert.Equal(AccessPattern.Strided, toucher.Options.Pattern);
        Assert.Contains("\"distribution\": \"strided\"", ScenarioWriter.Write(scenario), StringComparison.Ordinal);
    }
}
