using Memvisor.Core.Host.Owning;
using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Host;

[Collection(AllocationMeasurement.Name)]
public class PolicyAllocationTests
{
    /// <summary>
    /// The policy ticks every 100 ms per host: between two rebalances (balance period 5 s) a tick over
    /// the owning substrate, sampling periods ending included, allocates nothing.
    /// </summary>
    [Fact]
    public void A_policy_tick_between_rebalances_allocates_nothing()
    {
        using var host = new TestHost(1024, swapPages: 2048);
        var controller = new HostMemoryController(host.Manager, PolicyScenarioSuite.Options(0.75), seed: 3);
        var guests = new TestGuest[2];
        for (var i = 0; i < guests.Length; i++)
        {
            guests[i] = TestGuest.Attach(host.Manager, host.Memory, 256, mapping => controller.PowerOn(PolicyScenarioSuite.Vm($"vm{i}") with { MaxPages = 256 }, mapping));
            guests[i].Mapping.RecordsCalls = false; // the measurement is Core's; the test mapping's call log would grow
            for (var p = 0u; p < 200; p++)
            {
                guests[i].Write(new Ppn(p), 0, [1]);
            }
        }

        for (var t = 0; t < 60; t++)
        {
            controller.Advance(PolicyScenarioSuite.Tick);
        }

        // 40 ticks of 100 ms after a rebalance: within one balance period (5 s), so no rebalance
        // happens in a measured run; the rebalance before each run is not measured.
        long rebalances = 0;
        var (least, _) = AllocationMeasurement.Least(
            () =>
            {
                for (var t = 0; t < 40; t++)
                {
                    controller.Advance(PolicyScenarioSuite.Tick);
                }
            },
            prepare: () =>
            {
                controller.Rebalance();
                rebalances = controller.Rebalances;
            });

        Assert.Equal(rebalances, controller.Rebalances);
        Assert.Equal(0, least);
    }
}
