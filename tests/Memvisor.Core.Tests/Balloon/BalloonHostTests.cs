using Memvisor.Core.Balloon;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;
using static Memvisor.Testing.BalloonTestKit;
using Memvisor.Testing;

namespace Memvisor.Core.Tests.Balloon;

public class BalloonHostTests
{
    private static readonly TimeSpan Deadline = new BalloonOptions().UnresponsiveDeadline;

    [Fact]
    public void A_well_behaved_driver_inflates_to_its_target_and_deflates_back()
    {
        using var host = new TestHost(machinePages: 128, swapPages: 128);
        var guest = host.PowerOn("a", 100);
        WritePatterns(guest, seedBase: 0);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var driver = new TestBalloonDriver(balloons.Attach(guest.Id), guest.PageCount, batchPages: 16);

        // 128 machine pages - 100 private = 28 free.
        Assert.Equal(28, host.Manager.Pool.FreePages);
        Assert.Equal(40, balloons.SetTarget(guest.Id, 40));

        // Batches of 16: 16 + 16 + 8 = 40 pages in 3 polls, taken from PPN 99 down to PPN 60.
        Assert.Equal(3, driver.PollUntilAtTarget(clock));
        Assert.Equal(40, balloons.SizeOf(guest.Id));
        Assert.Equal(40, BalloonedInPmap(host.Manager, guest.Id, guest.PageCount));
        Assert.Equal(28 + 40, host.Manager.Pool.FreePages);
        Assert.All(Range(60, 40), p => Assert.Equal(PageState.Ballooned, host.Manager.PageInfoOf(guest.Id, p).State));
        Assert.All(Range(0, 60), p => Assert.Equal(TestHost.Pattern(0 + (int)p.Value), guest.PageForRead(p).ToArray()));
        Assert.True(balloons.IsResponsive(guest.Id));
        host.Manager.CheckConsistency();

        // Memory is plentiful again: deflate to 0, again 3 polls. Deflated pages have no backing until touched.
        balloons.SetTarget(guest.Id, 0);
        Assert.Equal(3, driver.PollUntilAtTarget(clock));
        Assert.Equal(0, balloons.SizeOf(guest.Id));
        Assert.Equal(28 + 40, host.Manager.Pool.FreePages);
        Assert.All(Range(60, 40), p => Assert.Equal(PageState.Untouched, host.Manager.PageInfoOf(guest.Id, p).State));
        Assert.True(guest.PageForRead(new Ppn(99)).IndexOfAnyExcept((byte)0) < 0, "a page back from the balloon reads as zeros");

        var stats = balloons.GetStats(guest.Id);
        Assert.Equal((40L, 40L, 6L, 0L), (stats.PagesInflated, stats.PagesDeflated, stats.Reports, stats.Rejections.Total));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void The_balloon_limit_is_65_percent_of_configured_memory_by_default()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 256);
        var guest = host.PowerOn("a", 200);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var channel = balloons.Attach(guest.Id);
        var driver = new TestBalloonDriver(channel, guest.PageCount, batchPages: 64);

        // 200 pages × 65 / 100 = 130 pages: a target of 1000 is clamped to it.
        Assert.Equal(130, balloons.LimitOf(guest.Id));
        Assert.Equal(130, balloons.SetTarget(guest.Id, 1000));
        Assert.Equal(130, channel.TargetPages);
        driver.PollUntilAtTarget(clock);
        Assert.Equal(130, balloons.SizeOf(guest.Id));

        // At the limit: nothing more is taken, and the policy is told the balloon cannot deliver.
        var verdicts = new BalloonVerdict[5];
        Assert.Equal(new BalloonReportResult(0, 5), channel.Inflate(guest.Id, Range(0, 5), verdicts));
        Assert.All(verdicts, v => Assert.Equal(BalloonVerdict.OverLimit, v));
        Assert.Equal(130, balloons.SizeOf(guest.Id));
        Assert.Equal(0, balloons.DeliverablePages(guest.Id));
        Assert.False(balloons.CanDeliver(guest.Id));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_per_vm_cap_in_megabytes_or_percent_lowers_the_limit()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 4 * 1024);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var plain = host.PowerOn("plain", 1024);
        var capped = host.PowerOn("capped", 1024);
        var half = host.PowerOn("half", 1024);
        var fraction = host.PowerOn("fraction", 1024);
        balloons.Attach(plain.Id);
        var cappedChannel = balloons.Attach(capped.Id, balloons.Options with { MaxPages = (int)PageGeometry.PagesFromMegabytes(1) });
        balloons.Attach(half.Id, balloons.Options with { MaxPercent = 50, MaxPages = (int)PageGeometry.PagesFromMegabytes(3) });
        balloons.Attach(fraction.Id, balloons.Options with { MaxPercent = 62.5 });

        // 1024 pages (4 MiB): 65% = 665.6 -> 665; a 1 MiB cap = 256 pages; 50% = 512 under a 3 MiB (768-page) cap;
        // 62.5% = 640 exactly.
        Assert.Equal(665, balloons.SetTarget(plain.Id, 10_000));
        Assert.Equal(256, balloons.SetTarget(capped.Id, 10_000));
        Assert.Equal(512, balloons.SetTarget(half.Id, 10_000));
        Assert.Equal(640, balloons.SetTarget(fraction.Id, 10_000));

        var driver = new TestBalloonDriver(cappedChannel, capped.PageCount, batchPages: 512);
        Assert.Equal(1, driver.PollUntilAtTarget(clock));
        var verdicts = new BalloonVerdict[3];
        cappedChannel.Inflate(capped.Id, Range(0, 3), verdicts);
        Assert.All(verdicts, v => Assert.Equal(BalloonVerdict.OverLimit, v));
        Assert.Equal(256, balloons.SizeOf(capped.Id));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Inflating_past_the_target_takes_pages_up_to_the_target_and_rejects_the_rest()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 32);
        var guest = host.PowerOn("a", 20);
        WritePatterns(guest, seedBase: 100);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var channel = balloons.Attach(guest.Id);
        channel.DriverStatus = BalloonDriverStatus.Active;
        balloons.SetTarget(guest.Id, 5);
        var free = host.Manager.Pool.FreePages;

        // Limit 20 × 65 / 100 = 13. PPNs 0-4 fill the target of 5. The k-th page past it would make the
        // balloon 5 + k: within the limit for k = 1..8 (PPNs 5-12: over the target), beyond it for
        // k = 9..15 (PPNs 13-19: over the limit).
        var verdicts = new BalloonVerdict[20];
        Assert.Equal(new BalloonReportResult(5, 15), channel.Inflate(guest.Id, Range(0, 20), verdicts));
        Assert.All(verdicts[..5], v => Assert.Equal(BalloonVerdict.Accepted, v));
        Assert.All(verdicts[5..13], v => Assert.Equal(BalloonVerdict.OverTarget, v));
        Assert.All(verdicts[13..], v => Assert.Equal(BalloonVerdict.OverLimit, v));

        var stats = balloons.GetStats(guest.Id);
        Assert.Equal((5, 8L, 7L), (stats.SizePages, stats.Rejections.OverTarget, stats.Rejections.OverLimit));
        Assert.Equal(free + 5, host.Manager.Pool.FreePages);
        Assert.All(Range(5, 15), p => Assert.Equal(TestHost.Pattern(100 + (int)p.Value), guest.PageForRead(p).ToArray()));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_page_listed_twice_in_one_report_counts_once()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 16);
        var guest = host.PowerOn("a", 16);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var channel = balloons.Attach(guest.Id);
        balloons.SetTarget(guest.Id, 4);

        var verdicts = new BalloonVerdict[4];
        Assert.Equal(new BalloonReportResult(2, 2), channel.Inflate(guest.Id, [new Ppn(5), new Ppn(5), new Ppn(6), new Ppn(5)], verdicts));
        Assert.Equal([BalloonVerdict.Accepted, BalloonVerdict.Duplicate, BalloonVerdict.Accepted, BalloonVerdict.Duplicate], verdicts);
        Assert.Equal(2, balloons.SizeOf(guest.Id));

        // The next report starts afresh: PPN 5 may be listed again.
        Assert.Equal(new BalloonReportResult(1, 1), channel.Deflate(guest.Id, [new Ppn(5), new Ppn(5)]));
        Assert.Equal(1, balloons.SizeOf(guest.Id));
        Assert.Equal(2 + 1, balloons.GetStats(guest.Id).Rejections.Duplicate);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_hostile_driver_is_rejected_and_counted_and_changes_nothing()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var victim = host.PowerOn("victim", 16);
        var hostile = host.PowerOn("hostile", 32);
        WritePatterns(victim, seedBase: 1000);
        for (var p = 0; p < 16; p++)
        {
            hostile.Write(new Ppn((uint)p), 0, TestHost.Pattern(2000 + p));
        }

        var balloons = new BalloonHost(host.Manager, new ManualClock());
        balloons.Attach(victim.Id);
        var channel = balloons.Attach(hostile.Id, balloons.Options with { MaxPagesPerReport = 8 });
        channel.DriverStatus = BalloonDriverStatus.Active;

        // Legitimately: 8 private pages into the balloon. 64 - 16 - 16 = 32 free, then 40.
        balloons.SetTarget(hostile.Id, 8);
        Assert.Equal(new BalloonReportResult(8, 0), channel.Inflate(hostile.Id, Range(0, 8)));
        Assert.Equal(40, host.Manager.Pool.FreePages);
        var victimPmap = Pmap(host.Manager, victim.Id, 16);
        var hostilePmap = Pmap(host.Manager, hostile.Id, 32);

        // The barrage. Limit 32 × 65 / 100 = 20; size = target = 8, so the k-th page past the target
        // would make 8 + k <= 20 pages: over the target, not over the limit, for k up to 12.
        AssertRejected(channel.Inflate, victim.Id, Range(0, 4), BalloonVerdict.ForeignVm);
        AssertRejected(channel.Deflate, victim.Id, Range(0, 4), BalloonVerdict.ForeignVm);
        AssertRejected(channel.Inflate, hostile.Id, [new Ppn(32), new Ppn(1000), new Ppn(uint.MaxValue)], BalloonVerdict.OutOfRange);
        AssertRejected(channel.Deflate, hostile.Id, [new Ppn(32)], BalloonVerdict.OutOfRange);
        AssertRejected(channel.Inflate, hostile.Id, [new Ppn(3), new Ppn(3)], BalloonVerdict.AlreadyBallooned, BalloonVerdict.Duplicate);
        AssertRejected(channel.Deflate, hostile.Id, [new Ppn(10), new Ppn(10), new Ppn(20)], BalloonVerdict.NotBallooned, BalloonVerdict.Duplicate, BalloonVerdict.NotBallooned);
        AssertRejected(channel.Inflate, hostile.Id, Range(0, 8), BalloonVerdict.AlreadyBallooned);
        AssertRejected(channel.Deflate, hostile.Id, Range(8, 8), BalloonVerdict.NotBallooned);
        AssertRejected(channel.Inflate, hostile.Id, Range(8, 8), BalloonVerdict.OverTarget);
        AssertRejected(channel.Inflate, hostile.Id, Range(8, 10), [.. Enumerable.Repeat(BalloonVerdict.OverTarget, 8), BalloonVerdict.ReportTooLarge]);

        // 4 + 4 + 3 + 1 + 2 + 3 + 8 + 8 + 8 + 10 = 51 entries, every one rejected under its reason.
        var expected = new BalloonRejections
        {
            ForeignVm = 4 + 4,
            OutOfRange = 3 + 1,
            AlreadyBallooned = 1 + 8,
            Duplicate = 1 + 1,
            NotBallooned = 2 + 8,
            OverTarget = 8 + 8,
            ReportTooLarge = 2,
        };
        Assert.Equal(51, expected.Total);
        Assert.Equal(expected, balloons.GetStats(hostile.Id).Rejections);
        Assert.Equal(expected, balloons.Rejections);
        Assert.Equal(new BalloonRejections(), balloons.GetStats(victim.Id).Rejections);

        // Nothing changed: free pool, both pmaps, the hostile VM's own private data, the victim's data.
        Assert.Equal(40, host.Manager.Pool.FreePages);
        Assert.Equal(8, balloons.SizeOf(hostile.Id));
        Assert.Equal(victimPmap, Pmap(host.Manager, victim.Id, 16));
        Assert.Equal(hostilePmap, Pmap(host.Manager, hostile.Id, 32));
        host.Manager.CheckConsistency();
        Assert.All(Range(8, 8), p => Assert.Equal(TestHost.Pattern(2000 + (int)p.Value), hostile.PageForRead(p).ToArray()));
        AssertVictimIntact();

        // Powered off: every later report is refused, whatever it claims.
        host.Manager.PowerOff(hostile.Id);
        balloons.Detach(hostile.Id);
        var freeAfterOff = host.Manager.Pool.FreePages;
        AssertRejected(channel.Inflate, hostile.Id, Range(0, 4), BalloonVerdict.VmPoweredOff);
        AssertRejected(channel.Deflate, hostile.Id, Range(0, 4), BalloonVerdict.VmPoweredOff);
        AssertRejected(channel.Inflate, victim.Id, Range(0, 4), BalloonVerdict.VmPoweredOff);
        Assert.False(channel.IsOpen);
        Assert.Equal(4 + 4 + 4, balloons.Rejections.VmPoweredOff);
        Assert.Equal(freeAfterOff, host.Manager.Pool.FreePages);
        Assert.Equal(victimPmap, Pmap(host.Manager, victim.Id, 16));
        host.Manager.CheckConsistency();
        AssertVictimIntact();

        void AssertVictimIntact() =>
            Assert.All(Range(0, 16), p => Assert.Equal(TestHost.Pattern(1000 + (int)p.Value), victim.PageForRead(p).ToArray()));
    }

    [Fact]
    public void A_stale_channel_cannot_touch_the_vm_that_reuses_its_id()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var first = host.PowerOn("first", 16);
        var stale = balloons.Attach(first.Id);
        stale.DriverStatus = BalloonDriverStatus.Active;
        balloons.SetTarget(first.Id, 4);
        Assert.Throws<InvalidOperationException>(() => balloons.Attach(first.Id));

        // Powered off without Detach; the next VM gets the same id.
        host.Manager.PowerOff(first.Id);
        var second = host.PowerOn("second", 16);
        Assert.Equal(first.Id, second.Id);
        WritePatterns(second, seedBase: 3000);

        AssertRejected(stale.Inflate, second.Id, Range(0, 4), BalloonVerdict.VmPoweredOff);
        Assert.False(stale.IsOpen);
        Assert.False(balloons.IsAttached(second.Id));
        Assert.Throws<ArgumentException>(() => balloons.SetTarget(second.Id, 4));
        Assert.All(Range(0, 16), p => Assert.Equal(PageState.Private, host.Manager.PageInfoOf(second.Id, p).State));
        Assert.All(Range(0, 16), p => Assert.Equal(TestHost.Pattern(3000 + (int)p.Value), second.PageForRead(p).ToArray()));

        var channel = balloons.Attach(second.Id);
        Assert.Equal((0, BalloonDriverStatus.NotInstalled), (channel.TargetPages, channel.DriverStatus));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_driver_that_ignores_its_target_is_flagged_after_the_deadline_and_recovers_on_progress()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 128);
        var guest = host.PowerOn("a", 100);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var driver = new TestBalloonDriver(balloons.Attach(guest.Id), guest.PageCount, batchPages: 16);
        var tick = TimeSpan.FromMilliseconds(1);

        // Limit 100 × 65 / 100 = 65. "Longer than the deadline": at exactly 15 s the driver is still given the benefit.
        balloons.SetTarget(guest.Id, 20);
        clock.Advance(Deadline);
        Assert.Equal(65, balloons.DeliverablePages(guest.Id));
        clock.Advance(tick);
        Assert.False(balloons.IsResponsive(guest.Id));
        Assert.False(balloons.CanDeliver(guest.Id));
        Assert.Equal(0, balloons.DeliverablePages(guest.Id));
        Assert.Equal(Deadline + tick, balloons.GetStats(guest.Id).SinceProgress);

        // Repeating or raising the target asks the same thing again: the clock keeps running.
        balloons.SetTarget(guest.Id, 20);
        balloons.SetTarget(guest.Id, 30);
        Assert.False(balloons.IsResponsive(guest.Id));

        // One batch of progress: responsive again, 65 - 16 = 49 deliverable.
        Assert.Equal(16, driver.Poll());
        Assert.Equal(49, balloons.DeliverablePages(guest.Id));

        // Stuck again at 16 of 30, then asked to shrink to 10: a new demand restarts the clock.
        clock.Advance(Deadline + tick);
        Assert.False(balloons.IsResponsive(guest.Id));
        balloons.SetTarget(guest.Id, 10);
        Assert.True(balloons.IsResponsive(guest.Id));
        Assert.Equal(6, driver.Poll());

        // A balloon at its target is never flagged, however long it waits.
        clock.Advance(TimeSpan.FromHours(1));
        Assert.True(balloons.IsResponsive(guest.Id));
        Assert.Equal(65 - 10, balloons.DeliverablePages(guest.Id));
    }

    [Fact]
    public void Without_an_active_driver_the_balloon_cannot_deliver()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 128);
        var guest = host.PowerOn("a", 100);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var channel = balloons.Attach(guest.Id);

        // Limit 65 pages; only an active driver makes them deliverable.
        Assert.Equal(BalloonDriverStatus.NotInstalled, channel.DriverStatus);
        Assert.True(balloons.IsResponsive(guest.Id));
        Assert.False(balloons.CanDeliver(guest.Id));
        channel.DriverStatus = BalloonDriverStatus.Disabled;
        Assert.Equal(0, balloons.DeliverablePages(guest.Id));
        channel.DriverStatus = (BalloonDriverStatus)7; // garbage from a guest's shared page
        Assert.Equal(0, balloons.DeliverablePages(guest.Id));
        channel.DriverStatus = BalloonDriverStatus.Active;
        Assert.Equal(65, balloons.DeliverablePages(guest.Id));

        // A driver that is switched off gives its balloon back: accepted in any state.
        balloons.SetTarget(guest.Id, 4);
        channel.Inflate(guest.Id, Range(0, 4));
        channel.DriverStatus = BalloonDriverStatus.Disabled;
        Assert.False(balloons.CanDeliver(guest.Id));
        Assert.Equal(new BalloonReportResult(4, 0), channel.Deflate(guest.Id, Range(0, 4)));
        Assert.Equal(0, balloons.SizeOf(guest.Id));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_guest_touching_a_ballooned_page_shrinks_the_balloon_and_cannot_deflate_it()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 32);
        var guest = host.PowerOn("a", 16);
        WritePatterns(guest, seedBase: 0);
        var clock = new ManualClock();
        var balloons = new BalloonHost(host.Manager, clock);
        var channel = balloons.Attach(guest.Id);
        channel.DriverStatus = BalloonDriverStatus.Active;
        balloons.SetTarget(guest.Id, 4);
        channel.Inflate(guest.Id, Range(0, 4));

        // The guest breaks its promise: page 2 is backed again, so the balloon holds 3 of its 4 pages.
        guest.Write(new Ppn(2), 0, [1]);
        Assert.Equal(1, host.Manager.GetVmStats(guest.Id).Counters.BalloonedPageTouches);
        Assert.Equal(3, balloons.SizeOf(guest.Id));
        Assert.Equal(16 * 65 / 100 - 3, balloons.DeliverablePages(guest.Id));
        Assert.Equal(new BalloonReportResult(0, 1), channel.Deflate(guest.Id, [new Ppn(2)]));
        Assert.Equal(1, balloons.GetStats(guest.Id).Rejections.NotBallooned);

        // Away from its target with no progress: flagged after the deadline; giving the page again recovers.
        clock.Advance(Deadline + TimeSpan.FromMilliseconds(1));
        Assert.False(balloons.IsResponsive(guest.Id));
        Assert.Equal(new BalloonReportResult(1, 0), channel.Inflate(guest.Id, [new Ppn(2)]));
        Assert.True(balloons.IsResponsive(guest.Id));
        Assert.Equal(4, balloons.SizeOf(guest.Id));
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Misuse_by_the_host_side_is_refused_loudly()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 16);
        var guest = host.PowerOn("a", 16);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        Assert.Throws<ArgumentException>(() => balloons.SetTarget(guest.Id, 1));
        var channel = balloons.Attach(guest.Id);
        balloons.SetTarget(guest.Id, 4);
        Assert.Throws<ArgumentOutOfRangeException>(() => balloons.SetTarget(guest.Id, -1));
        Assert.Throws<ArgumentException>(() => channel.Inflate(guest.Id, Range(0, 3), new BalloonVerdict[2]));
        Assert.Equal(0, balloons.SizeOf(guest.Id));
        Assert.Throws<ArgumentException>(() => balloons.Attach(new VmId(9)));
    }

    [Fact]
    public void Invalid_options_are_refused_naming_the_field_and_value()
    {
        var valid = new BalloonOptions();
        valid.Validate();
        Assert.Contains("MaxPercent: 101%", Assert.Throws<ArgumentException>(() => (valid with { MaxPercent = 101 }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxPercent: -1%", Assert.Throws<ArgumentException>(() => (valid with { MaxPercent = -1 }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxPercent: NaN%", Assert.Throws<ArgumentException>(() => (valid with { MaxPercent = double.NaN }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxPages: -5", Assert.Throws<ArgumentException>(() => (valid with { MaxPages = -5 }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("UnresponsiveDeadline: 0", Assert.Throws<ArgumentException>(() => (valid with { UnresponsiveDeadline = TimeSpan.Zero }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("MaxPagesPerReport: 0", Assert.Throws<ArgumentException>(() => (valid with { MaxPagesPerReport = 0 }).Validate()).Message, StringComparison.Ordinal);

        using var host = new TestHost(machinePages: 16, swapPages: 16);
        var guest = host.PowerOn("a", 16);
        Assert.Throws<ArgumentException>(() => new BalloonHost(host.Manager, new ManualClock(), valid with { MaxPercent = 200 }));
        Assert.Throws<ArgumentException>(() => new BalloonHost(host.Manager, new ManualClock()).Attach(guest.Id, valid with { MaxPages = -1 }));
    }

    private delegate BalloonReportResult Report(VmId claimedVm, ReadOnlySpan<Ppn> ppns, Span<BalloonVerdict> verdicts);

    /// <summary>Sends a report that must be rejected entirely, with these verdicts entry by entry (the last one repeats).</summary>
    private static void AssertRejected(Report report, VmId claimedVm, Ppn[] ppns, params BalloonVerdict[] expected)
    {
        var verdicts = new BalloonVerdict[ppns.Length];
        Assert.Equal(new BalloonReportResult(0, ppns.Length), report(claimedVm, ppns, verdicts));
        for (var i = 0; i < ppns.Length; i++)
        {
            Assert.Equal(expected[Math.Min(i, expected.Length - 1)], verdicts[i]);
        }
    }
}
