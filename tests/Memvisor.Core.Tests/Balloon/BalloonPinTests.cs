using Memvisor.Core.Balloon;
using Memvisor.Core.Host;
using Memvisor.Core.Host.Owning;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using static Memvisor.Testing.BalloonTestKit;

namespace Memvisor.Core.Tests.Balloon;

public class BalloonPinTests
{
    [Fact]
    public void A_pinned_target_holds_against_the_policy_and_the_driver_inflates_to_it()
    {
        using var host = new TestHost(machinePages: 128, swapPages: 128);
        var guest = host.PowerOn("a", 100);
        WritePatterns(guest, seedBase: 0);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var driver = new TestBalloonDriver(balloons.Attach(guest.Id), guest.PageCount, batchPages: 16);

        balloons.PinTarget(guest.Id, 40);

        // The policy asks for 0 (memory plentiful) and for 60: the pin stays at 40 either way.
        Assert.Equal(40, balloons.SetTarget(guest.Id, 0));
        Assert.Equal(40, balloons.SetTarget(guest.Id, 60));
        Assert.Equal(40, balloons.TargetOf(guest.Id));
        Assert.Equal(40, balloons.PinnedTargetOf(guest.Id));

        // Batches of 16: 16 + 16 + 8 = 40 pages in 3 polls; then nothing more to deliver although the limit is 65.
        Assert.Equal(40, balloons.DeliverablePages(guest.Id));
        Assert.Equal(3, driver.PollUntilAtTarget(clock));
        Assert.Equal(40, balloons.SizeOf(guest.Id));
        Assert.Equal(0, balloons.DeliverablePages(guest.Id));
        Assert.Equal(40, balloons.SetTarget(guest.Id, 0));
        Assert.Equal(0, driver.Poll());
        Assert.Equal(40, balloons.SizeOf(guest.Id));

        // Released: the policy's next target applies again, and the driver deflates to it.
        balloons.PinTarget(guest.Id, null);
        Assert.Null(balloons.PinnedTargetOf(guest.Id));
        Assert.Equal(40, balloons.TargetOf(guest.Id));
        Assert.Equal(0, balloons.SetTarget(guest.Id, 0));
        Assert.Equal(3, driver.PollUntilAtTarget(clock));
        Assert.Equal(0, balloons.SizeOf(guest.Id));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_pin_beyond_the_balloon_limit_or_negative_is_refused_and_changes_nothing()
    {
        using var host = new TestHost(machinePages: 128, swapPages: 128);
        var guest = host.PowerOn("a", 100);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        balloons.Attach(guest.Id);

        // Limit: 65% of 100 pages = 65.
        balloons.PinTarget(guest.Id, 65);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => balloons.PinTarget(guest.Id, 66));
        Assert.Contains("65 pages", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => balloons.PinTarget(guest.Id, -1));
        Assert.Equal(65, balloons.PinnedTargetOf(guest.Id));
        Assert.Equal(65, balloons.TargetOf(guest.Id));
    }

    [Fact]
    public void The_host_policy_in_the_high_state_does_not_deflate_a_pinned_balloon()
    {
        // 4096 machine pages, one VM of 1024: nothing is overcommitted, so the policy would deflate any balloon.
        using var host = new TestHost(machinePages: 4096, swapPages: 4096);
        var controller = new HostMemoryController(host.Manager, new HostPolicyOptions(), seed: 1);
        var guest = TestGuest.Attach(host.Manager, host.Memory, 1024,
            mapping => controller.PowerOn(new VmConfig { Name = "a", MaxPages = 1024, OverheadPages = 16 }, mapping));
        var driver = new TestBalloonDriver(controller.Balloons.ChannelOf(guest.Id), guest.PageCount, batchPages: 64);
        controller.Balloons.PinTarget(guest.Id, 512);

        // 10 s of policy steps of 100 ms with a driver poll each second: 512 / 64 = 8 polls to reach the pin.
        for (var step = 1; step <= 100; step++)
        {
            controller.Advance(TimeSpan.FromMilliseconds(100));
            if (step % 10 == 0)
            {
                driver.Poll();
            }
        }

        Assert.Equal("High", controller.States.State.ToString());
        Assert.Equal(512, controller.Balloons.SizeOf(guest.Id));
        Assert.Equal(512, controller.Balloons.TargetOf(guest.Id));
        host.Manager.CheckConsistency();
    }
}
