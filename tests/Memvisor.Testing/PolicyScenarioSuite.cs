using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;

namespace Memvisor.Testing;

/// <summary>
/// A host that runs <see cref="HostMemoryPolicy"/> over one substrate's ports, with guests whose use of
/// memory a scenario sets. Guests use the top pages of their memory (where a balloon driver takes pages
/// first), so ballooning gives memory back.
/// </summary>
public interface IPolicyScenarioHost : IDisposable
{
    /// <summary>The policy under test.</summary>
    HostMemoryPolicy Policy { get; }

    /// <summary>Free machine pages as the substrate counts them.</summary>
    long FreePages { get; }

    /// <summary>Powers a VM on (admission by the policy): throws <see cref="AdmissionException"/> when refused.</summary>
    VmId PowerOn(VmConfig config, bool balloonDriver);

    /// <summary>The guest now uses its top <paramref name="usedPages"/> pages, and re-touches the top <paramref name="activePages"/> of them while it runs.</summary>
    void SetWorkload(VmId vm, int usedPages, int activePages);

    /// <summary>Lets the guest run, or stalls it (it neither runs nor touches anything, but the policy does not block it: waiting on a disk, say).</summary>
    void SetRunning(VmId vm, bool running);

    /// <summary>One policy tick of <see cref="PolicyScenarioSuite.Tick"/>: unblocked guests run, balloon drivers poll, the policy advances.</summary>
    void Step();

    /// <summary>Pages in the VM's balloon.</summary>
    int BalloonPages(VmId vm);

    /// <summary>The size the host asks of the VM's balloon.</summary>
    int BalloonTargetPages(VmId vm);

    /// <summary>The VM's pages paged out by the host.</summary>
    int PagedOutPages(VmId vm);

    /// <summary>Whether the substrate was told to block the VM.</summary>
    bool IsBlockedBySubstrate(VmId vm);

    /// <summary>From now on the substrate models its swap device: it can write <paramref name="pagesPerTick"/> pages within each tick.</summary>
    void ModelSwapDevice(int pagesPerTick);
}

/// <summary>
/// The policy's scenarios, the same for every substrate: each substrate's tests derive from this class
/// and build the host. A machine of 1024 pages, VMs of 768 pages without overhead, equal shares unless
/// said; sampling periods of 1 s (gains 0.2 / 0.6), balance every 5 s, ticks of 100 ms.
/// Free-memory thresholds of 1024 pages, rounded up: high 6% = 62, soft 4% = 41, hard 2% = 21,
/// low 1% = 11; pages for VMs = 1024 - free target (high + margin: 62 + 11 = 73) = 951.
/// </summary>
public abstract class PolicyScenarioSuite
{
    /// <summary>Machine pages of every scenario.</summary>
    public const int MachinePages = 1024;

    /// <summary>Configured pages of every VM.</summary>
    public const int VmPages = 768;

    /// <summary>The policy tick.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);

    /// <summary>Builds a host of <paramref name="machinePages"/> pages and <paramref name="swapPages"/> of swap running the policy with <paramref name="options"/>.</summary>
    protected abstract IPolicyScenarioHost CreateHost(int machinePages, int swapPages, HostPolicyOptions options);

    /// <summary>The scenarios' policy options at idle tax rate <paramref name="tau"/>.</summary>
    public static HostPolicyOptions Options(double tau) => new()
    {
        Allocation = new AllocationOptions { Tau = tau, BalancePeriodSeconds = 5 },
        Sampling = new SamplingOptions { PeriodSeconds = 1, SamplePages = 100, SlowGain = 0.2, FastGain = 0.6 },
        SharingEnabled = false,
    };

    /// <summary>A VM of <see cref="VmPages"/> pages, no overhead.</summary>
    public static VmConfig Vm(string name, int minPages = 0, Shares? shares = null) =>
        new() { Name = name, MaxPages = VmPages, MinPages = minPages, OverheadPages = 0, Shares = shares ?? Shares.Normal };

    /// <summary>
    /// Paper §5.2: an idle VM and an active one, equal shares, both using 600 pages. With tau = 0 their
    /// targets are equal (951 / 2); with tau = 0.75 the idle VM's target falls and the active VM's rises.
    /// </summary>
    [Fact]
    public void The_idle_tax_moves_targets_from_an_idle_vm_to_an_active_one()
    {
        var (idle0, active0) = IdleAndActiveTargets(0);
        var (idle75, active75) = IdleAndActiveTargets(0.75);
        Assert.InRange(idle0, 475 - 2, 476 + 2);
        Assert.InRange(active0, 475 - 2, 476 + 2);
        Assert.True(idle75 < idle0 - 100, $"idle target {idle75} at tau 0.75 vs {idle0} at tau 0");
        Assert.True(active75 > active0 + 100, $"active target {active75} at tau 0.75 vs {active0} at tau 0");
    }

    /// <summary>Soft state (free 24 pages: below 41, above 21): a VM with a working balloon is ballooned, and nothing is paged.</summary>
    [Fact]
    public void In_soft_a_working_balloon_reclaims_and_nothing_is_paged()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: true);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 400, 400);
        var worst = FreeMemoryState.High;
        var peakBalloon = 0;
        for (var i = 0; i < 300; i++)
        {
            host.Step();
            worst = host.Policy.States.State > worst ? host.Policy.States.State : worst;
            peakBalloon = Math.Max(peakBalloon, host.BalloonPages(idle));
        }

        // (Once free memory is back above the free target and a margin, the balloon deflates again.)
        Assert.Equal(FreeMemoryState.Soft, worst);
        Assert.True(peakBalloon > 0, "the idle VM's balloon inflated");
        Assert.Equal(0, host.PagedOutPages(idle));
        Assert.Equal(0, host.PagedOutPages(active));
        Assert.True(host.FreePages >= 41, $"free memory back above soft: {host.FreePages}");
    }

    /// <summary>Soft state as above, but the idle VM has no balloon driver: it is paged instead, only for what it is above its target.</summary>
    [Fact]
    public void In_soft_a_vm_that_cannot_balloon_is_paged()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: false);
        var active = host.PowerOn(Vm("active"), balloonDriver: true);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 400, 400);
        var worst = RunRecordingWorstState(host, 300, out _);
        Assert.Equal(FreeMemoryState.Soft, worst);
        Assert.True(host.PagedOutPages(idle) > 0, "the idle VM was paged");
        Assert.Equal(0, host.PagedOutPages(active));
        Assert.Equal(0, host.BalloonPages(active));
    }

    /// <summary>Hard state (free 14 pages: below 21, above 11): VMs above their target are paged even with a balloon.</summary>
    [Fact]
    public void In_hard_vms_above_target_are_paged()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: true);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 410, 410);
        host.Step();
        Assert.Equal(FreeMemoryState.Hard, host.Policy.States.State);
        Assert.True(host.PagedOutPages(idle) > 0, "the idle VM was paged in the first tick");
        Assert.Equal(0, host.PagedOutPages(active));
        Assert.False(host.IsBlockedBySubstrate(idle));
    }

    /// <summary>
    /// Issue 13, item 1: min is guaranteed. Hard state (free 14 pages); the idle VM has min 550 of 768, so at
    /// most 218 of its pages may be ballooned or paged, counting what its balloon is asked to take: after
    /// every tick, max(balloon, balloon target) + paged out &lt;= max - min for every VM.
    /// </summary>
    [Fact]
    public void Balloon_and_paging_together_never_take_a_vm_below_its_min()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle", minPages: 550), balloonDriver: true);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 700, 0);
        host.SetWorkload(active, 310, 310);
        for (var i = 0; i < 200; i++)
        {
            host.Step();
            foreach (var (vm, min) in new[] { (idle, 550), (active, 0) })
            {
                var reclaimed = Math.Max(host.BalloonPages(vm), host.BalloonTargetPages(vm)) + host.PagedOutPages(vm);
                Assert.True(reclaimed <= VmPages - min, $"tick {i}, {vm}: balloon {host.BalloonPages(vm)} (target {host.BalloonTargetPages(vm)}) + paged {host.PagedOutPages(vm)} > max - min = {VmPages - min}");
            }
        }
    }

    /// <summary>
    /// Issue 13, item 1: in hard the host pages what restores the free target (73 pages), once: from 14 free
    /// pages, one tick frees about 59 pages (not the VMs' whole excess over their targets), and the idle VM's
    /// balloon is asked only for the rest of its excess, never for the pages just paged as well.
    /// </summary>
    [Fact]
    public void In_hard_one_tick_reclaims_what_restores_the_free_target_and_no_more()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: true);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 410, 410);
        Assert.Equal(14, host.FreePages);
        host.Step();
        var freeTarget = host.Policy.Options.Allocation.FreeTargetPages(MachinePages);
        Assert.InRange(host.FreePages, freeTarget, freeTarget + host.Policy.VmCount);
        var excessBefore = 600 - host.Policy.PolicyOf(idle).TargetPages;
        Assert.True(host.BalloonTargetPages(idle) + host.PagedOutPages(idle) <= excessBefore, $"balloon target {host.BalloonTargetPages(idle)} + paged {host.PagedOutPages(idle)} > excess {excessBefore}");
        Assert.True(host.BalloonTargetPages(idle) > 0, "the balloon is asked for the rest");
    }

    /// <summary>
    /// Issue 13, item 4: paging has a cost the policy feels. In hard (free 14 pages, 59 short of the free
    /// target) a substrate whose swap device can write 20 pages within a tick is paged 20 pages a tick, not
    /// what the policy's own credit (2,560 pages a tick) would allow; with a device that is busy for the
    /// whole tick, not at all.
    /// </summary>
    [Fact]
    public void In_hard_the_policy_pages_only_what_the_swap_device_can_write_within_a_tick()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: false);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 410, 410);
        host.ModelSwapDevice(0);
        host.Step();
        Assert.Equal(FreeMemoryState.Hard, host.Policy.States.State);
        Assert.Equal(0, host.PagedOutPages(idle));
        host.ModelSwapDevice(20);
        host.Step();
        Assert.Equal(20, host.PagedOutPages(idle));
        host.Step();
        Assert.Equal(40, host.PagedOutPages(idle));
    }

    /// <summary>Low state (free 8 pages: below 11): VMs above their target are blocked until memory recovers; the others run.</summary>
    [Fact]
    public void In_low_vms_above_target_are_blocked_until_memory_recovers()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: false);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 620, 0);
        host.SetWorkload(active, 396, 396);
        host.Step();
        Assert.Equal(FreeMemoryState.Low, host.Policy.States.State);
        Assert.True(host.Policy.IsBlocked(idle));
        Assert.True(host.IsBlockedBySubstrate(idle));
        Assert.False(host.IsBlockedBySubstrate(active));
        RunRecordingWorstState(host, 100, out _);
        Assert.NotEqual(FreeMemoryState.Low, host.Policy.States.State);
        Assert.False(host.IsBlockedBySubstrate(idle));
    }

    /// <summary>
    /// Issue 13, item 3: sampling periods are VM execution time (paper §5.3). An active VM stalls for 10 s
    /// (10 periods of host time) without being blocked: it ran for none of it, so no period ends and its
    /// estimate stays where it was; once it runs again its periods resume.
    /// </summary>
    [Fact]
    public void A_stalled_vm_keeps_its_estimate_because_its_periods_run_on_its_own_time()
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(0.75));
        var vm = host.PowerOn(Vm("vm"), balloonDriver: false);
        host.SetWorkload(vm, 300, 300);
        for (var i = 0; i < 50; i++)
        {
            host.Step();
        }

        var before = host.Policy.WorkingSetOf(vm).Snapshot();
        host.SetRunning(vm, false);
        for (var i = 0; i < 100; i++)
        {
            host.Step();
        }

        var stalled = host.Policy.WorkingSetOf(vm).Snapshot();
        Assert.Equal(before.PeriodsCompleted, stalled.PeriodsCompleted);
        Assert.Equal(before.Estimate, stalled.Estimate);
        host.SetRunning(vm, true);
        for (var i = 0; i < 20; i++)
        {
            host.Step();
        }

        Assert.True(host.Policy.WorkingSetOf(vm).Snapshot().PeriodsCompleted > before.PeriodsCompleted, "periods resume when the VM runs");
    }

    /// <summary>Paper §6.1: min + overhead must fit in unreserved memory, max - min in unreserved swap.</summary>
    [Fact]
    public void Admission_refuses_what_memory_or_swap_cannot_cover()
    {
        using var host = CreateHost(MachinePages, VmPages, Options(0.75));
        host.PowerOn(Vm("a", minPages: 600), balloonDriver: false);
        var memory = Assert.Throws<AdmissionException>(() => host.PowerOn(Vm("b", minPages: 500), balloonDriver: false));
        Assert.Contains("'b'", memory.Message, StringComparison.Ordinal);
        Assert.Equal(600, host.Policy.ReservedPages);

        // a reserved 168 pages of swap (768 - 600): 600 are left, c needs 768 - 300 = 468, d 768 - 400 = 368 more.
        host.PowerOn(Vm("c", minPages: 300), balloonDriver: false);
        var swap = Assert.Throws<AdmissionException>(() => host.PowerOn(Vm("d", minPages: 10), balloonDriver: false));
        Assert.Contains("swap", swap.Message, StringComparison.Ordinal);
        Assert.Equal(2, host.Policy.VmCount);
    }

    /// <summary>Paper §5.1: with tau = 0 and memory overcommitted, targets partition the 951 pages for VMs by shares (1 : 2 : 3).</summary>
    [Fact]
    public void Targets_partition_memory_by_shares()
    {
        using var host = CreateHost(MachinePages, 3 * VmPages, Options(0));
        var a = host.PowerOn(Vm("a", shares: Shares.Of(1000)), balloonDriver: false);
        var b = host.PowerOn(Vm("b", shares: Shares.Of(2000)), balloonDriver: false);
        var c = host.PowerOn(Vm("c", shares: Shares.Of(3000)), balloonDriver: false);
        host.Step();
        Assert.InRange(host.Policy.PolicyOf(a).TargetPages, 158, 159);
        Assert.InRange(host.Policy.PolicyOf(b).TargetPages, 317, 318);
        Assert.InRange(host.Policy.PolicyOf(c).TargetPages, 475, 476);
        Assert.InRange(host.Policy.PolicyOf(a).TargetPages + host.Policy.PolicyOf(b).TargetPages + host.Policy.PolicyOf(c).TargetPages, 950, 951);
    }

    private (int Idle, int Active) IdleAndActiveTargets(double tau)
    {
        using var host = CreateHost(MachinePages, 2 * VmPages, Options(tau));
        var idle = host.PowerOn(Vm("idle"), balloonDriver: false);
        var active = host.PowerOn(Vm("active"), balloonDriver: false);
        host.SetWorkload(idle, 600, 0);
        host.SetWorkload(active, 600, 600);
        RunRecordingWorstState(host, 600, out _);
        return (host.Policy.PolicyOf(idle).TargetPages, host.Policy.PolicyOf(active).TargetPages);
    }

    private static FreeMemoryState RunRecordingWorstState(IPolicyScenarioHost host, int steps, out int stepsInWorst)
    {
        var worst = FreeMemoryState.High;
        stepsInWorst = 0;
        for (var i = 0; i < steps; i++)
        {
            host.Step();
            var state = host.Policy.States.State;
            if (state > worst)
            {
                worst = state;
                stepsInWorst = 0;
            }

            stepsInWorst += state == worst ? 1 : 0;
        }

        return worst;
    }
}

/// <summary>The policy over <see cref="FakeHostMemory"/>.</summary>
public sealed class FakePolicyScenarioHost : IPolicyScenarioHost
{
    private ushort _nextId;

    public FakePolicyScenarioHost(int machinePages, int swapPages, HostPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Memory = new FakeHostMemory(machinePages, swapPages, (int)options.Balloon.MaxPercent) { SamplePages = options.Sampling.SamplePages };
        Policy = new HostMemoryPolicy(options, Memory, Memory);
    }

    /// <summary>The fake ports.</summary>
    public FakeHostMemory Memory { get; }

    public HostMemoryPolicy Policy { get; }

    public long FreePages => Memory.FreePages;

    public VmId PowerOn(VmConfig config, bool balloonDriver)
    {
        Policy.Admit(config);
        var id = new VmId(_nextId++);
        Memory.PowerOn(id, config, balloonDriver);
        Policy.Add(id, config);
        return id;
    }

    public void SetWorkload(VmId vm, int usedPages, int activePages)
    {
        Memory.Use(vm, usedPages, activePages);
    }

    public void SetRunning(VmId vm, bool running) => Memory.Vm(vm).Stalled = !running;

    public void Step()
    {
        Memory.Run(PolicyScenarioSuite.Tick);
        Policy.Advance(PolicyScenarioSuite.Tick);
    }

    public int BalloonPages(VmId vm) => Memory.BalloonPages(vm);

    public int BalloonTargetPages(VmId vm) => Memory.BalloonTargetPages(vm);

    public int PagedOutPages(VmId vm) => Memory.PagedOutPages(vm);

    public bool IsBlockedBySubstrate(VmId vm) => Memory.Vm(vm).Blocked;

    public void ModelSwapDevice(int pagesPerTick) => Memory.SwapWritablePagesPerTick = pagesPerTick;

    public void Dispose()
    {
    }
}
