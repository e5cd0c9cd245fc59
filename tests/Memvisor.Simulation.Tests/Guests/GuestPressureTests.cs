using Memvisor.Core.Util;
using Memvisor.Core.Balloon;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Core.Sharing;
using Memvisor.Core.Statistics;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;
using Memvisor.Scenarios;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class GuestPressureTests
{
    /// <summary>
    /// Two guests of one image on a host with too little memory: the host shares their pages, swaps at
    /// random, one guest's balloon is inflated until the guest must swap to its own disk, so double
    /// paging happens. Returns what each guest and the host saw.
    /// </summary>
    private static PressureRun RunUnderPressure(ulong seed)
    {
        using var host = new SimulatedTestHost(machinePages: 2300, swapPages: 4096, seed: seed);
        // Devices reach only the lowest 512 machine pages; hot pages are remapped after 4 bounce copies.
        host.Manager.ConfigureIoRemap(new IoRemapOptions { DmaBoundaryPages = 512, LowReservePages = 64, RemapThresholdCopies = 4 });
        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 200, HostPagesPerSecond = 400 });
        var linux = Guest(host.PowerOn("linux", 2048), GuestFlavour.Linux, new ToucherWorkload(new ToucherOptions { WorkingSetPages = 1500 }), seed, kernelTouchesPerSecond: 50);
        var windows = Guest(host.PowerOn("windows", 1024), GuestFlavour.Windows, new ComputeWorkload(new ComputeOptions { CodePages = 256, DataPages = 300 }), seed + 1, kernelTouchesPerSecond: 50);
        var network = Guest(host.PowerOn("network", 512), GuestFlavour.Linux, new NetworkWorkload(new NetworkOptions { BufferPages = 128 }), seed + 2);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var balloon = linux.InstallBalloonDriver(balloons.Attach(linux.Id), new BalloonDriverOptions { MaxInflatePagesPerSecond = 200 });
        for (var t = Second / 10; t <= 20 * Second; t += Second / 10)
        {
            // A balloon target that leaves the toucher less memory than its working set:
            // 2048 - 64 kernel - 21 structures - 600 balloon = 1363 pages for 1500 working-set pages.
            balloons.SetTarget(linux.Id, t >= 5 * Second ? 600 : 0);
            linux.RunUntil(t);
            windows.RunUntil(t);
            network.RunUntil(t);
            scanner.Advance(TimeSpan.FromMilliseconds(100));
            if (host.Manager.Pool.FreePages < 100)
            {
                host.Manager.SwapOut(linux.Id, 100);
                host.Manager.SwapOut(windows.Id, 50);
                host.Manager.SwapOut(network.Id, 20);
            }

            if (t % Second == 0)
            {
                host.Manager.DecayIoCounts();
                host.Manager.BalanceLowMemory();
            }
        }

        host.Manager.CheckConsistency();
        return new PressureRun(
            linux.Counters with { }, windows.Counters with { }, network.Counters with { },
            host.Manager.GetVmStats(linux.Id), host.Manager.GetVmStats(windows.Id), host.Manager.GetVmStats(network.Id),
            host.Manager.GetIoRemapStats(network.Id), balloon.SizePages);
    }

    private sealed record PressureRun(
        GuestCounters Linux, GuestCounters Windows, GuestCounters Network,
        VmMemoryStats LinuxHost, VmMemoryStats WindowsHost, VmMemoryStats NetworkHost, IoRemapStats NetworkIo, int BalloonPages);

    [Fact]
    public void Guests_lose_no_data_under_sharing_host_swapping_ballooning_and_double_paging()
    {
        var run = RunUnderPressure(seed: 3);

        Assert.Equal(0, run.Linux.DataMismatches);
        Assert.Equal(0, run.Windows.DataMismatches);
        Assert.Equal(0, run.Network.DataMismatches);
        Assert.Equal(600, run.BalloonPages);
        Assert.Equal(600, run.LinuxHost.BalloonedPages);
        Assert.True(run.Linux.GuestSwapOuts > 0, "the guest swapped to its own disk");
        Assert.True(run.Linux.GuestSwapIns > 0, "the guest read its swap back");
        Assert.True(run.LinuxHost.Counters.SwapIns > 0 && run.WindowsHost.Counters.SwapIns > 0, "the host swapped both VMs");
        Assert.True(run.Linux.DoublePagingReads > 0, $"double paging happened: {run}");
        Assert.True(run.WindowsHost.SharedPages > 0 && run.WindowsHost.ZeroPages > 0, "pages were shared");
        Assert.True(run.Linux.Accesses > 10_000 && run.Windows.Accesses > 10_000);
        Assert.True(run.NetworkIo.Remaps > 0 && run.NetworkIo.DirectTransfers > 0, "hot buffers were remapped to low memory");
        Assert.True(run.Network.DmaTransfers > 10_000 && run.Network.DmaBounced > 0);
    }

    [Fact]
    public void Two_runs_with_the_same_seed_give_identical_counters()
    {
        var first = RunUnderPressure(seed: 5);
        var second = RunUnderPressure(seed: 5);
        Assert.Equal(first, second);

        var other = RunUnderPressure(seed: 6);
        Assert.NotEqual(first.Linux, other.Linux);
    }
}
