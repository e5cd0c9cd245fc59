using Memvisor.Core.Util;
using Memvisor.Core.Balloon;
using Memvisor.Scenarios;
using Memvisor.Testing;
using Memvisor.Simulation.Guests;
using Memvisor.Simulation.Workloads;
using static Memvisor.Simulation.Tests.Guests.GuestTestSupport;

namespace Memvisor.Simulation.Tests.Guests;

public sealed class BalloonDriverTests
{
    [Fact]
    public void The_balloon_inflates_once_per_second_at_its_rate_up_to_its_cap_taking_free_pages_first()
    {
        using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 8192);
        var guest = Guest(host.PowerOn("vm", 4096), GuestFlavour.Linux, new ToucherWorkload(new ToucherOptions { WorkingSetPages = 500 }));
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var channel = balloons.Attach(guest.Id);
        Assert.Equal(2662, balloons.SetTarget(guest.Id, 3000));
        var balloon = guest.InstallBalloonDriver(channel, new BalloonDriverOptions { MaxInflatePagesPerSecond = 1000 });
        Assert.Equal(BalloonDriverStatus.NotInstalled, channel.DriverStatus);

        // Polls at 0 s, 1 s, 2 s, ...: 1000 pages each, up to the cap of 65% of 4096 = 2662.4 -> 2662 pages.
        Assert.Equal(2662, balloon.CapPages);
        guest.RunUntil(Second / 2);
        Assert.Equal(BalloonDriverStatus.Active, channel.DriverStatus);
        Assert.Equal(1000, balloon.SizePages);
        guest.RunUntil(Second + (Second / 2));
        Assert.Equal(2000, balloon.SizePages);
        guest.RunUntil(5 * Second);
        Assert.Equal(2662, balloon.SizePages);
        Assert.Equal(2662, host.Manager.GetVmStats(guest.Id).BalloonedPages);
        Assert.Equal(2662, balloons.SizeOf(guest.Id));
        Assert.Equal(2662, guest.BalloonPages);

        // 4096 - 64 kernel - 41 structures - 500 working set = 3491 free pages: the balloon took only free pages.
        Assert.Equal(500, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.GuestSwapOuts);
        Assert.Equal(3491 - 2662, guest.FreePages);

        // Deflating: 8192 pages/s, so one poll gives everything back.
        balloons.SetTarget(guest.Id, 0);
        guest.RunUntil(6 * Second);
        Assert.Equal(0, balloon.SizePages);
        Assert.Equal(0, host.Manager.GetVmStats(guest.Id).BalloonedPages);
        Assert.Equal(3491, guest.FreePages);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }

    [Fact]
    public void A_disabled_driver_never_inflates_and_a_late_driver_starts_after_its_load_delay()
    {
        using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 8192);
        var disabledGuest = Guest(host.PowerOn("disabled", 2048), GuestFlavour.Linux, new IdleWorkload());
        var lateGuest = Guest(host.PowerOn("late", 2048), GuestFlavour.Linux, new IdleWorkload());
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var disabled = disabledGuest.InstallBalloonDriver(balloons.Attach(disabledGuest.Id), new BalloonDriverOptions { Enabled = false });
        var late = lateGuest.InstallBalloonDriver(balloons.Attach(lateGuest.Id), new BalloonDriverOptions { LoadDelaySeconds = 3 });
        balloons.SetTarget(disabledGuest.Id, 500);
        balloons.SetTarget(lateGuest.Id, 500);

        disabledGuest.RunUntil(5 * Second);
        lateGuest.RunUntil(2 * Second);
        Assert.Equal(0, disabled.SizePages);
        Assert.Equal(0, host.Manager.GetVmStats(disabledGuest.Id).BalloonedPages);
        Assert.Equal(BalloonDriverStatus.Disabled, balloons.ChannelOf(disabledGuest.Id).DriverStatus);
        Assert.False(late.IsLoaded);
        Assert.Equal(BalloonDriverStatus.NotInstalled, balloons.ChannelOf(lateGuest.Id).DriverStatus);
        Assert.Equal(0, late.SizePages);
        lateGuest.RunUntil(4 * Second);
        Assert.True(late.IsLoaded);
        Assert.Equal(500, late.SizePages);
    }

    [Fact]
    public void Under_pressure_the_guest_gives_up_cold_page_cache_before_its_hot_anonymous_memory()
    {
        using var host = new SimulatedTestHost(machinePages: 8192, swapPages: 8192);
        GuestSegment file = default, hot = default;
        var next = 0;
        var workload = new ScriptedWorkload(g =>
        {
            file = g.CreateFile(1200);
            hot = g.CreateAnonymous(400);
        });
        var guest = Guest(host.PowerOn("vm", 2048), GuestFlavour.Linux, workload);
        guest.Boot();
        // Read the file once (cold: 75 disk reads of 6 ms, each reading ahead 15 more pages), then keep touching the hot set for 2 s.
        for (var i = 0; i < file.Pages; i++)
        {
            guest.Read(file.Page(i));
        }

        var start = guest.NowNanoseconds;
        Assert.Equal(75, guest.Counters.PageCacheMisses);
        Assert.Equal(1125, guest.Counters.ReadaheadPages);
        Assert.Equal((75 * LatencyModel.Default.GuestDiskReadNanoseconds) + (1125 * LatencyModel.Default.GuestDiskTransferNanoseconds), guest.Counters.GuestStallNanoseconds);
        workload.Step = g => g.Write(hot.Page(next++ % hot.Pages), g.NewToken());
        guest.RunUntil(start + (2 * Second));
        // 2048 - 64 - 21 boot pages - 1200 cache - 400 hot = 363 free pages.
        Assert.Equal(363, guest.FreePages);

        var balloons = new BalloonHost(host.Manager, new ManualClock());
        guest.InstallBalloonDriver(balloons.Attach(guest.Id));
        balloons.SetTarget(guest.Id, 1000);
        guest.RunUntil(start + (4 * Second));

        // The balloon took the 363 free pages, then 637 pages of cold cache; the hot set stayed.
        Assert.Equal(1000, guest.BalloonPages);
        Assert.Equal(400, guest.AnonymousPages);
        Assert.Equal(0, guest.Counters.GuestSwapOuts);
        Assert.InRange(guest.PageCachePages, 0, 1200 - 637);
        Assert.Equal(0, guest.Counters.DataMismatches);
    }
}
