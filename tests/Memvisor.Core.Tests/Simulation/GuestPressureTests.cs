using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Core.Statistics;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Core.Tests.Simulation.GuestTestSupport;

namespace Memvisor.Core.Tests.Simulation;

public sealed class GuestPressureTests
{
    /// <summary>
    /// Two guests of one image on a host with too little memory: the host shares their pages, swaps at
    /// random, one guest's balloon is inflated until the guest must swap to its own disk, so double
    /// paging happens. Returns what each guest and the host saw.
    /// </summary>
    private static (GuestCounters Linux, GuestCounters Windows, VmMemoryStats LinuxHost, VmMemoryStats WindowsHost, BalloonDriver Balloon, long HostSwapIns) RunUnderPressure(ulong seed)
    {
        using var host = new TestHost(machinePages: 2200, swapPages: 4096, seed: seed);
        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 200, HostPagesPerSecond = 400 });
        var linux = Guest(host.PowerOn("linux", 2048), GuestFlavour.Linux, new ToucherWorkload(new ToucherOptions { WorkingSetPages = 1500 }), seed, kernelTouchesPerSecond: 50);
        var windows = Guest(host.PowerOn("windows", 1024), GuestFlavour.Windows, new ComputeWorkload(new ComputeOptions { CodePages = 256, DataPages = 300 }), seed + 1, kernelTouchesPerSecond: 50);
        var channel = new DirectBalloonChannel(host.Manager, linux.Id);
        var balloon = linux.InstallBalloonDriver(channel, new BalloonDriverOptions { MaxInflatePagesPerSecond = 200 });
        for (var t = Second / 10; t <= 20 * Second; t += Second / 10)
        {
            // A balloon target that leaves the toucher less memory than its working set:
            // 2048 - 64 kernel - 21 structures - 600 balloon = 1363 pages for 1500 working-set pages.
            channel.TargetPages = t >= 5 * Second ? 600 : 0;
            linux.RunUntil(t);
            windows.RunUntil(t);
            scanner.Advance(TimeSpan.FromMilliseconds(100));
            if (host.Manager.Pool.FreePages < 100)
            {
                host.Manager.SwapOut(linux.Id, 100);
                host.Manager.SwapOut(windows.Id, 50);
            }
        }

        host.Manager.CheckConsistency();
        return (linux.Counters with { }, windows.Counters with { }, host.Manager.GetVmStats(linux.Id), host.Manager.GetVmStats(windows.Id), balloon, host.Manager.GetHostStats().TotalPages);
    }

    [Fact]
    public void Guests_lose_no_data_under_sharing_host_swapping_ballooning_and_double_paging()
    {
        var run = RunUnderPressure(seed: 3);

        Assert.Equal(0, run.Linux.DataMismatches);
        Assert.Equal(0, run.Windows.DataMismatches);
        Assert.Equal(600, run.Balloon.SizePages);
        Assert.Equal(600, run.LinuxHost.BalloonedPages);
        Assert.True(run.Linux.GuestSwapOuts > 0, "the guest swapped to its own disk");
        Assert.True(run.Linux.GuestSwapIns > 0, "the guest read its swap back");
        Assert.True(run.LinuxHost.SwapIns > 0 && run.WindowsHost.SwapIns > 0, "the host swapped both VMs");
        Assert.True(run.Linux.DoublePagingReads > 0, "double paging happened");
        Assert.True(run.WindowsHost.SharedPages > 0 && run.WindowsHost.ZeroPages > 0, "pages were shared");
        Assert.True(run.Linux.Accesses > 10_000 && run.Windows.Accesses > 10_000);
    }

    [Fact]
    public void Two_runs_with_the_same_seed_give_identical_counters()
    {
        var first = RunUnderPressure(seed: 5);
        var second = RunUnderPressure(seed: 5);
        Assert.Equal(first.Linux, second.Linux);
        Assert.Equal(first.Windows, second.Windows);
        Assert.Equal(first.LinuxHost, second.LinuxHost);
        Assert.Equal(first.WindowsHost, second.WindowsHost);

        var other = RunUnderPressure(seed: 6);
        Assert.NotEqual(first.Linux, other.Linux);
    }
}
