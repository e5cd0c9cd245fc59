/*
 * host.reservedMB: machine memory ESX keeps for itself (VMkernel, service console). The VMs and the
 * free-memory thresholds see only the rest, so two VMs sharing a host get less each.
 */
using Memvisor.Scenarios;

namespace Memvisor.Simulation.Tests.Simulator;

public class HostReservationTests
{
    private static Scenario TwoTouchers(double reservedMB) => ScenarioReader.Parse($$"""
        { "durationSeconds": 30, "seed": 2,
          "host": { "memoryMB": 128, "reservedMB": {{reservedMB}}, "swapMB": 512, "sharing": false, "idleTax": 0, "balancePeriodSeconds": 2 },
          "vms": [ { "name": "a", "memoryMB": 96, "overheadMB": 2, "workload": { "kind": "toucher", "workingSetMB": 80 } },
                   { "name": "b", "memoryMB": 96, "overheadMB": 2, "workload": { "kind": "toucher", "workingSetMB": 80 } } ] }
        """);

    private static HostSample LastSample(Scenario scenario)
    {
        using var host = new SimulatedHost(scenario);
        return host.Run(null, TestContext.Current.CancellationToken).Samples[^1];
    }

    [Fact]
    public void Memory_the_host_reserves_for_itself_is_out_of_the_vms_reach()
    {
        var none = LastSample(TwoTouchers(0));
        var reserved = LastSample(TwoTouchers(32));

        Assert.Equal(128, none.MemoryMB);
        Assert.Equal(96, reserved.MemoryMB);
        var grantedNone = none.Vms.Sum(v => v.GrantedMB);
        var grantedReserved = reserved.Vms.Sum(v => v.GrantedMB);
        // Both hosts are overcommitted: the VMs hold what the host can give, 32 MB less with the reservation,
        // less the smaller free target (a percentage of what the policy manages: about 2 MB less of 96 than of 128).
        Assert.InRange(grantedNone - grantedReserved, 32 * 0.8, 32 * 1.05);
    }

    [Fact]
    public void A_reservation_that_leaves_the_vms_nothing_is_refused_before_anything_runs()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse("""{ "host": { "memoryMB": 128, "reservedMB": 128 } }"""));
        Assert.Contains("reservedMB", e.Message, StringComparison.Ordinal);
        var programmatic = new Scenario { Host = new HostSpec { MemoryMB = 64, ReservedMB = 64 } };
        var refused = Assert.Throws<ScenarioException>(() => SimulatedHost.Validate(programmatic));
        Assert.Contains("reservedMB", refused.Message, StringComparison.Ordinal);
    }
}
