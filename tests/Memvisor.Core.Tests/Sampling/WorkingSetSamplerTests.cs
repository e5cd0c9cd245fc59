using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Tests.Sampling;

[Collection(AllocationMeasurement.Name)]
public class WorkingSetSamplerTests
{
    private static int ArmedPages(MemoryManager manager, VmId vm, int pages, int[]? counts = null)
    {
        var armed = 0;
        for (var p = 0; p < pages; p++)
        {
            if (manager.IsSampleTrapArmed(vm, new Ppn((uint)p)))
            {
                armed++;
                if (counts is not null)
                {
                    counts[p]++;
                }
            }
        }

        return armed;
    }

    [Fact]
    public void Sampling_does_not_change_guest_data()
    {
        const int pages = 256;
        using var host = new TestHost(machinePages: pages + 16, swapPages: 0);
        var guest = host.PowerOn("vm", pages, minPages: pages);
        var expected = new byte[pages][];
        for (var p = 0; p < pages; p++)
        {
            expected[p] = TestHost.Pattern(p);
            guest.Write(new Ppn((uint)p), 0, expected[p]);
        }

        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions { PeriodSeconds = 1, SamplePages = 64 }, seed: 11);
        sampler.Track(guest.Id);
        var faultsBefore = guest.Faults;
        const int seconds = 200;
        for (var s = 0; s < seconds; s++)
        {
            // Writes and reads through armed and unarmed pages alike.
            for (var k = 0; k < 10; k++)
            {
                var p = ((s * 37) + (k * 11)) % pages;
                expected[p] = TestHost.Pattern((s * 1000) + p);
                guest.Write(new Ppn((uint)p), 0, expected[p]);
            }

            for (var k = 0; k < 20; k++)
            {
                var p = ((s * 53) + (k * 13)) % pages;
                Assert.True(guest.PageForRead(new Ppn((uint)p)).SequenceEqual(expected[p]), $"second {s}: PPN {p}");
            }

            sampler.Advance(guest.Id, TimeSpan.FromSeconds(1));
        }

        // Sampling costs at most one fault per sampled page per period, and the traps did fire.
        var samplingFaults = guest.Faults - faultsBefore;
        Assert.InRange(samplingFaults, 1, seconds * 64);

        Assert.True(sampler.Untrack(guest.Id));
        Assert.Equal(0, ArmedPages(host.Manager, guest.Id, pages));
        for (var p = 0; p < pages; p++)
        {
            Assert.Equal(GuestPageAccess.Writable, guest.MappingOf(new Ppn((uint)p)).Access);
            Assert.True(guest.PageForRead(new Ppn((uint)p)).SequenceEqual(expected[p]), $"PPN {p}");
        }

        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Each_period_arms_n_distinct_pages_drawn_uniformly_and_reproducibly()
    {
        // 50 pages, 10 sampled per period, 2,000 periods of an idle guest: exactly 10 distinct pages are
        // armed after every period, and each page is drawn 2,000 * 10 / 50 = 400 times in expectation,
        // sd = sqrt(2,000 * 0.2 * 0.8) = 17.9; every page is asserted within 5 sd (+-90).
        const int pages = 50, n = 10, periods = 2000;
        int[] Draws(ulong seed)
        {
            using var host = new TestHost(machinePages: 8, swapPages: 0);
            var guest = host.PowerOn("idle", pages, minPages: pages);
            var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions { PeriodSeconds = 1, SamplePages = n }, seed);
            sampler.Track(guest.Id);
            var counts = new int[pages];
            for (var i = 0; i < periods; i++)
            {
                Assert.True(sampler.Advance(guest.Id, TimeSpan.FromSeconds(1)));
                Assert.Equal(n, ArmedPages(host.Manager, guest.Id, pages, counts));
                Assert.Equal(n, sampler.Snapshot(guest.Id).SampledPages);
            }

            Assert.Equal(0.0, sampler.Estimate(guest.Id), 6); // nothing was ever touched
            return counts;
        }

        var counts = Draws(seed: 7);
        Assert.All(counts, c => Assert.InRange(c, 400 - 90, 400 + 90));
        Assert.Equal(counts, Draws(seed: 7));
        Assert.NotEqual(counts, Draws(seed: 8));
    }

    [Fact]
    public void A_vm_smaller_than_the_sample_is_sampled_whole()
    {
        // 40 pages < 100: every page is sampled, so a period's fraction is exact: 10 touched of 40 = 0.25.
        using var host = new TestHost(machinePages: 64, swapPages: 0);
        var guest = host.PowerOn("small", 40, minPages: 40);
        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions(), seed: 3);
        sampler.Track(guest.Id);
        Assert.Equal(40, sampler.Snapshot(guest.Id).SampledPages);
        Assert.Equal(40, ArmedPages(host.Manager, guest.Id, 40));
        Assert.Equal(1.0, sampler.Estimate(guest.Id)); // not measured yet: fully active
        Assert.Equal(40.0, sampler.ActivePages(guest.Id));

        var ended = 0;
        for (var s = 0; s < 30; s++)
        {
            for (var p = 0u; p < 10; p++)
            {
                _ = guest.PageForRead(new Ppn(p));
            }

            ended += sampler.Advance(guest.Id, TimeSpan.FromSeconds(1)) ? 1 : 0;
            if (s == 0)
            {
                // One second in: 10 of 40 touched so far. 0.25 < fast (1.0) raises nothing.
                Assert.Equal(10, sampler.Snapshot(guest.Id).TouchedSoFar);
                Assert.Equal(1.0, sampler.Snapshot(guest.Id).FastWithPartial);
            }
        }

        // slow = 1 + 0.1 * (0.25 - 1) = 0.925; fast = 1 + 0.5 * (0.25 - 1) = 0.625; estimate 0.925.
        Assert.Equal(1, ended);
        var snap = sampler.Snapshot(guest.Id);
        Assert.Equal(1, snap.PeriodsCompleted);
        Assert.Equal(0.925, snap.Slow, 12);
        Assert.Equal(0.625, snap.Fast, 12);
        Assert.Equal(0.925, sampler.Estimate(guest.Id), 12);

        // Active pages: 0.925 * 40 configured = 37. As a fraction of what is allocated: 37 / 74 = 0.5;
        // of 20 allocated pages it is capped at 1; with nothing allocated, 1.
        Assert.Equal(37.0, sampler.ActivePages(guest.Id), 9);
        Assert.Equal(0.5, sampler.ActiveFractionOfAllocated(guest.Id, 74), 9);
        Assert.Equal(1.0, sampler.ActiveFractionOfAllocated(guest.Id, 20));
        Assert.Equal(1.0, sampler.ActiveFractionOfAllocated(guest.Id, 0));
    }

    [Fact]
    public void A_period_ends_after_its_vm_time_and_a_long_gap_closes_only_one()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 0);
        var guest = host.PowerOn("vm", 1000, minPages: 1000);
        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions(), seed: 5);
        sampler.Track(guest.Id);

        Assert.False(sampler.Advance(guest.Id, TimeSpan.FromSeconds(29)));
        Assert.False(sampler.Advance(guest.Id, TimeSpan.Zero)); // a descheduled VM's time does not run
        Assert.True(sampler.Advance(guest.Id, TimeSpan.FromSeconds(1)));
        Assert.True(sampler.Advance(guest.Id, TimeSpan.FromSeconds(95)));
        Assert.Equal(2, sampler.Snapshot(guest.Id).PeriodsCompleted);

        // The period after the long gap started at its end: a full 30 s again.
        Assert.False(sampler.Advance(guest.Id, TimeSpan.FromSeconds(29)));
        Assert.Equal(TimeSpan.FromSeconds(29), sampler.Snapshot(guest.Id).PeriodElapsed);
        Assert.True(sampler.Advance(guest.Id, TimeSpan.FromSeconds(1)));
        Assert.Equal(3, sampler.Snapshot(guest.Id).PeriodsCompleted);
        Assert.Equal(100, ArmedPages(host.Manager, guest.Id, 1000));
        Assert.Throws<ArgumentOutOfRangeException>(() => sampler.Advance(guest.Id, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void Advancing_allocates_nothing_once_a_vm_is_tracked()
    {
        using var host = new TestHost(machinePages: 1100, swapPages: 0);
        var guest = host.PowerOn("vm", 1000, minPages: 1000);
        guest.Mapping.RecordsCalls = false; // the measurement is Core's; the test mapping's call log would grow
        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions(), seed: 13);
        sampler.Track(guest.Id);
        var second = TimeSpan.FromSeconds(1);
        for (var s = 0; s < 60; s++)
        {
            // Warm up with the measured loop's own work (two periods), so that first faults and JIT
            // tiering of these paths happen before the measurement.
            for (var p = 0u; p < 500; p++)
            {
                _ = guest.PageForRead(new Ppn(p));
            }

            sampler.Advance(guest.Id, second);
        }

        // 10 periods of 30 one-second steps, the guest touching half its pages every second:
        // period ends, disarming, drawing and arming, and partial counts, with no garbage.
        var (least, runs) = AllocationMeasurement.Least(() =>
        {
            for (var s = 0; s < 300; s++)
            {
                for (var p = 0u; p < 500; p++)
                {
                    _ = guest.PageForRead(new Ppn(p));
                }

                sampler.Advance(guest.Id, second);
            }
        });

        Assert.Equal(0, least);
        Assert.Equal(2 + (10 * runs), sampler.Snapshot(guest.Id).PeriodsCompleted);
    }

    [Fact]
    public void Sampling_follows_vms_from_power_on_to_power_off()
    {
        using var host = new TestHost(machinePages: 600, swapPages: 0);
        var a = host.PowerOn("a", 256, minPages: 256);
        var b = host.PowerOn("b", 256, minPages: 256);
        for (var p = 0u; p < 256; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions(), seed: 9);
        sampler.Track(a.Id);
        sampler.Track(b.Id);
        Assert.Throws<InvalidOperationException>(() => sampler.Track(a.Id));
        Assert.Equal(100, ArmedPages(host.Manager, a.Id, 256));
        Assert.Equal(100, ArmedPages(host.Manager, b.Id, 256));

        // Untracking a running VM disarms its traps: its pages are mapped again, untouched by it.
        Assert.True(sampler.Untrack(a.Id));
        Assert.False(sampler.IsTracked(a.Id));
        Assert.Equal(0, ArmedPages(host.Manager, a.Id, 256));
        Assert.All(Enumerable.Range(0, 256), p => Assert.Equal(GuestPageAccess.Writable, a.MappingOf(new Ppn((uint)p)).Access));
        Assert.Equal(100, ArmedPages(host.Manager, b.Id, 256));
        var e = Assert.Throws<ArgumentException>(() => sampler.Advance(a.Id, TimeSpan.FromSeconds(1)));
        Assert.Contains($"{a.Id} is not sampled", e.Message, StringComparison.Ordinal);

        // A VM that is powered off first is simply forgotten.
        host.Manager.PowerOff(b.Id);
        Assert.True(sampler.Untrack(b.Id));
        Assert.False(sampler.Untrack(b.Id));
        Assert.Throws<ArgumentException>(() => sampler.Track(b.Id));
        host.Manager.CheckConsistency();
    }
}
