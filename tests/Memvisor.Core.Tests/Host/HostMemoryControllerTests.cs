using Memvisor.Core.Allocation;
using Memvisor.Core.Balloon;
using Memvisor.Core.Host;
using Memvisor.Core.Host.Owning;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Swap;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;

namespace Memvisor.Core.Tests.Host;

public class HostMemoryControllerTests
{
    private const int MachinePages = 1024;
    private const int VmPages = 768;

    private static HostPolicyOptions Policy(double tau) => new()
    {
        Allocation = new AllocationOptions { Tau = tau, BalancePeriodSeconds = 5 },
        Sampling = new SamplingOptions { PeriodSeconds = 1, SamplePages = 200, SlowGain = 0.2, FastGain = 0.6 },
        SharingEnabled = false,
    };

    /// <summary>
    /// Paper §5.2 (Figure 7's setting in miniature): two VMs with equal shares on an overcommitted host,
    /// one idle, one touching all of its memory. Machine 1024 pages, VMs 768 pages each, no overhead.
    /// Pages for VMs = 1024 - free target (high 6% of 1024 = 61.44 and hysteresis 1% = 10.24, each rounded up: 62 + 11 = 73) = 951.
    ///   tau = 0:    rho = S / P for both, equal when P_idle = P_active = 951 / 2 = 475.5.
    ///   tau = 0.75: k = 1 / (1 - 0.75) = 4; idle rho = S / (4 P_idle), active rho = S / P_active;
    ///               equal when P_active = 4 P_idle: P_idle = 951 / 5 = 190.2, P_active = 760.8.
    /// The targets are these numbers. The allocations settle near them: reclamation stops once free
    /// memory is back in the high state, so a VM may stay above its target by up to the band between
    /// the soft threshold and the free target (7% - 4% of 1024 = 31 pages).
    /// </summary>
    [Theory]
    [InlineData(0.0, 476.0, 476.0)]
    [InlineData(0.75, 190.4, 761.6)]
    public void Idle_memory_tax_moves_memory_from_the_idle_vm_to_the_active_one(double tau, double idleExpected, double activeExpected)
    {
        using var host = new TestHost(MachinePages, swapPages: 2 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(tau), seed: 3);
        var idle = PowerOn(host, controller, "idle");
        var active = PowerOn(host, controller, "active");
        var random = new Util.DeterministicRandom(11);
        for (var p = 0u; p < VmPages; p++)
        {
            idle.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
            controller.Advance(TimeSpan.FromMilliseconds(1));
        }

        RunActive(controller, active, random, fromTick: 0, toTick: 3000);

        var idleTarget = controller.PolicyOf(idle.Id).TargetPages;
        var activeTarget = controller.PolicyOf(active.Id).TargetPages;
        Assert.InRange(idleTarget, idleExpected * 0.97, idleExpected * 1.03 + 2);
        Assert.InRange(activeTarget, activeExpected * 0.97, activeExpected * 1.03 + 2);
        var idleGranted = host.Manager.GetVmStats(idle.Id).GrantedPages;
        var activeGranted = host.Manager.GetVmStats(active.Id).GrantedPages;
        const double band = 0.03 * MachinePages;
        Assert.InRange(idleGranted, idleExpected * 0.95, idleExpected + band);
        Assert.InRange(activeGranted, activeExpected * 0.95, Math.Min(VmPages, activeExpected + band));
        host.Manager.CheckConsistency();
        for (var p = 0u; p < VmPages; p++)
        {
            Assert.Equal(TestHost.Pattern((int)p), idle.PageForRead(new Ppn(p)).ToArray());
        }
    }

    /// <summary>
    /// The paper's Figure 7 raises tau from 0 to 0.75 in the middle of a run. The same two VMs as above,
    /// with tau = 0 until 150 s and 0.75 from then on (IdleTaxChanges): the targets are the tau = 0 ones
    /// (476 / 476 pages) just before the change, and the tau = 0.75 ones (190.4 / 761.6) at the end.
    /// </summary>
    [Fact]
    public void A_scheduled_tax_change_takes_effect_at_its_time_and_moves_idle_memory()
    {
        using var host = new TestHost(MachinePages, swapPages: 2 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(0) with { IdleTaxChanges = [new IdleTaxChange(150, 0.75)] }, seed: 3);
        var idle = PowerOn(host, controller, "idle");
        var active = PowerOn(host, controller, "active");
        var random = new Util.DeterministicRandom(11);
        for (var p = 0u; p < VmPages; p++)
        {
            idle.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        // 149.9 s: still tau = 0.
        RunActive(controller, active, random, fromTick: 0, toTick: 1499);
        Assert.Equal(0, controller.IdleTax);
        Assert.InRange(controller.PolicyOf(idle.Id).TargetPages, 476 * 0.97, 476 * 1.03 + 2);
        Assert.InRange(controller.PolicyOf(active.Id).TargetPages, 476 * 0.97, 476 * 1.03 + 2);

        RunActive(controller, active, random, fromTick: 1499, toTick: 3000);
        Assert.Equal(0.75, controller.IdleTax);
        Assert.InRange(controller.PolicyOf(idle.Id).TargetPages, 190.4 * 0.97, 190.4 * 1.03 + 2);
        Assert.InRange(controller.PolicyOf(active.Id).TargetPages, 761.6 * 0.97, 761.6 * 1.03 + 2);
        Assert.True(host.Manager.GetVmStats(active.Id).GrantedPages > 700, "the active VM got the idle VM's memory");
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void SetIdleTax_recomputes_targets_at_once_and_rejects_a_rate_of_one()
    {
        using var host = new TestHost(MachinePages, swapPages: 2 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(0.75), seed: 3);
        PowerOn(host, controller, "a");
        PowerOn(host, controller, "b");
        var before = controller.Rebalances;
        controller.SetIdleTax(0.5);
        Assert.Equal(0.5, controller.IdleTax);
        Assert.Equal(before + 1, controller.Rebalances);
        Assert.Throws<ArgumentException>(() => controller.SetIdleTax(1));
        Assert.Equal(0.5, controller.IdleTax);
    }

    [Fact]
    public void Tax_changes_out_of_order_are_refused_naming_the_change()
    {
        var options = Policy(0) with { IdleTaxChanges = [new IdleTaxChange(100, 0.75), new IdleTaxChange(50, 0.5)] };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("change 1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Admission_refuses_a_vm_whose_min_and_overhead_unreserved_memory_cannot_cover()
    {
        using var host = new TestHost(MachinePages, swapPages: 4096);
        var controller = new HostMemoryController(host.Manager, Policy(0.75), seed: 1);
        PowerOn(host, controller, "a", minPages: 600);
        var e = Assert.Throws<AdmissionException>(() => PowerOn(host, controller, "b", minPages: 500));
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
        Assert.Equal(600, controller.ReservedPages);
        PowerOn(host, controller, "c", minPages: 400);
    }

    [Fact]
    public void In_the_soft_state_a_working_balloon_reclaims_and_the_host_does_not_swap()
    {
        using var host = new TestHost(MachinePages, swapPages: 2 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(0.75), seed: 5);
        var idle = PowerOn(host, controller, "idle");
        var driver = new Memvisor.Testing.TestBalloonDriver(controller.Balloons.ChannelOf(idle.Id), VmPages, batchPages: 64);
        controller.Balloons.ChannelOf(idle.Id).DriverStatus = BalloonDriverStatus.Active;
        // The idle guest has used the top 600 of its pages (its balloon driver takes pages from the top
        // of its free memory, so ballooning them gives real machine pages back).
        for (var p = (uint)(VmPages - 600); p < VmPages; p++)
        {
            idle.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        var active = PowerOn(host, controller, "active");
        var random = new Util.DeterministicRandom(5);
        var written = 0u;
        var peakBalloon = 0;
        for (var tick = 0; tick < 600; tick++)
        {
            for (var i = 0; i < 10 && written < 420; i++)
            {
                active.Write(new Ppn(written++), 0, [1]);
            }

            active.Write(new Ppn(random.NextUInt32(Math.Max(1, written))), 0, [2]);
            driver.Poll();
            controller.Advance(TimeSpan.FromMilliseconds(100));
            peakBalloon = Math.Max(peakBalloon, controller.Balloons.SizeOf(idle.Id));
        }

        // (Once free memory is back above the free target plus a margin, the balloon may deflate again: the
        // idle guest does not re-touch what it gets back, so free memory stays where it is.)
        Assert.True(peakBalloon > 0, $"the idle VM's balloon inflated: state {controller.States.State}, idle {controller.PolicyOf(idle.Id)}");
        Assert.Equal(0, host.Manager.Counters.SwapPagesWritten);
        Assert.True(host.Manager.Pool.FreePages >= MachinePages * 0.04, $"free memory back above soft: {host.Manager.Pool.FreePages}");
        host.Manager.CheckConsistency();
    }

    /// <summary>
    /// Three VMs of 768 pages, equal shares, tau = 0 (activity plays no part): targets are 951 / 3 = 317
    /// pages each. A uses 600 pages (the top ones, which its balloon driver takes first), B 300, C 100:
    /// free memory is 24 pages, below soft (4% = 41), and A's balloon inflates. Then B powers off: targets
    /// become 951 / 2 = 475.5. A's guest re-touches every page it gets back, so without more it would settle
    /// at its target with a balloon of 600 - 476 = 124 pages while C leaves 376 pages of its target unused
    /// and a third of memory is free. Memory is plentiful, so the balloon must go: the free memory beyond
    /// the free target (73) and one more margin (11) is handed back, and free memory stays above that line.
    /// </summary>
    [Fact]
    public void In_the_high_state_free_memory_beyond_the_free_target_goes_back_to_ballooned_vms()
    {
        using var host = new TestHost(MachinePages, swapPages: 3 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(0.0), seed: 7);
        var a = PowerOn(host, controller, "a");
        var b = PowerOn(host, controller, "b");
        var c = PowerOn(host, controller, "c");
        var driver = new Memvisor.Testing.TestBalloonDriver(controller.Balloons.ChannelOf(a.Id), VmPages, batchPages: 64);
        Touch(b, 0, 300, driver: null);
        Touch(c, 0, 100, driver: null);
        var peakBalloon = 0;
        for (var tick = 0; tick < 100; tick++)
        {
            Touch(a, VmPages - 600, VmPages, driver);
            driver.Poll();
            controller.Advance(TimeSpan.FromMilliseconds(100));
            peakBalloon = Math.Max(peakBalloon, controller.Balloons.SizeOf(a.Id));
        }

        Assert.True(peakBalloon > 0, $"A's balloon inflated under pressure: state {controller.States.State}");

        controller.PowerOff(b.Id);
        for (var tick = 0; tick < 300; tick++)
        {
            Touch(a, VmPages - 600, VmPages, driver);
            driver.Poll();
            controller.Advance(TimeSpan.FromMilliseconds(100));
        }

        // 30 s = 6 balance periods of 5 s: A has all of its 600 pages back, and uses them.
        Assert.Equal(0, controller.Balloons.SizeOf(a.Id));
        Assert.Equal(600, host.Manager.GetVmStats(a.Id).PrivatePages);
        var line = new AllocationOptions().FreeTargetPages(MachinePages) + new AllocationOptions().HysteresisPages(MachinePages);
        Assert.True(host.Manager.Pool.FreePages >= line, $"free {host.Manager.Pool.FreePages} pages, line {line}");
        Assert.Equal(FreeMemoryState.High, controller.States.State);
        host.Manager.CheckConsistency();
    }

    /// <summary>
    /// A pinned balloon keeps its size and takes no share of the surplus. A uses its top 600 pages and is
    /// pinned at 50, B its top 300 with a balloon of 100, C 150: free = 1024 - 550 - 200 - 150 = 124 pages,
    /// high state. Surplus = 124 - free target (62 + 11 = 73) - margin 11 = 40 pages, all for B (the only
    /// unpinned balloon): 100 - 40 = 60. (Counting A's pinned 50 would have given B only floor(100 * 40 / 150) = 26.)
    /// </summary>
    [Fact]
    public void A_pinned_balloon_keeps_its_size_and_the_surplus_goes_to_the_others()
    {
        using var host = new TestHost(MachinePages, swapPages: 3 * VmPages);
        var controller = new HostMemoryController(host.Manager, Policy(0.0), seed: 11);
        var a = PowerOn(host, controller, "a");
        var b = PowerOn(host, controller, "b");
        var c = PowerOn(host, controller, "c");
        var driverA = new Memvisor.Testing.TestBalloonDriver(controller.Balloons.ChannelOf(a.Id), VmPages, batchPages: 64);
        var driverB = new Memvisor.Testing.TestBalloonDriver(controller.Balloons.ChannelOf(b.Id), VmPages, batchPages: 64);
        Touch(a, VmPages - 600, VmPages, driver: null);
        Touch(b, VmPages - 300, VmPages, driver: null);
        controller.Balloons.PinTarget(a.Id, 50);
        controller.Balloons.SetTarget(b.Id, 100);
        for (var i = 0; i < 4; i++)
        {
            driverA.Poll();
            driverB.Poll();
        }

        // C comes last: 600 + 300 + 150 pages would not fit before the balloons gave 150 back.
        Touch(c, 0, 150, driver: null);

        Assert.Equal(124, host.Manager.Pool.FreePages);
        Assert.Equal(FreeMemoryState.High, controller.States.State);

        controller.Rebalance();

        Assert.Equal(50, controller.Balloons.TargetOf(a.Id));
        Assert.Equal(60, controller.Balloons.TargetOf(b.Id));
    }

    /// <summary>The guest writes pages [from, to), leaving alone those its balloon driver holds.</summary>
    private static void Touch(TestGuest guest, int from, int to, Memvisor.Testing.TestBalloonDriver? driver)
    {
        for (var p = from; p < to; p++)
        {
            var ppn = new Ppn((uint)p);
            if (driver?.Holds(ppn) != true)
            {
                guest.Write(ppn, 16, [(byte)(p + 1)]);
            }
        }
    }

    /// <summary>The active VM writes 300 random pages per 100 ms tick, and the policy advances by the tick.</summary>
    private static void RunActive(HostMemoryController controller, TestGuest active, Util.DeterministicRandom random, int fromTick, int toTick)
    {
        for (var tick = fromTick; tick < toTick; tick++)
        {
            for (var i = 0; i < 300; i++)
            {
                active.Write(new Ppn(random.NextUInt32(VmPages)), 8, [(byte)tick]);
            }

            controller.Advance(TimeSpan.FromMilliseconds(100));
        }
    }

    private static TestGuest PowerOn(TestHost host, HostMemoryController controller, string name, int minPages = 0)
    {
        TestGuest? guest = null;
        guest = TestGuest.Attach(host.Manager, host.Memory, VmPages, mapping =>
            controller.PowerOn(new VmConfig { Name = name, MaxPages = VmPages, MinPages = minPages, OverheadPages = 0 }, mapping));
        return guest;
    }
}
