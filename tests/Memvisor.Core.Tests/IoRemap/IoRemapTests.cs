using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Tests.IoRemap;

public class IoRemapTests
{
    private const int Boundary = 64;
    private const int PacketBytes = 1500;

    /// <summary>A host of <paramref name="machinePages"/> pages split at 64 pages, I/O remapping configured before any VM runs.</summary>
    private static TestHost Host(int machinePages, IoRemapOptions options, int swapPages = 512)
    {
        var host = new TestHost(machinePages, swapPages);
        host.Manager.ConfigureIoRemap(options);
        return host;
    }

    private static IoRemapOptions Options(int threshold = 16, bool remap = true, int reserve = 8, int batch = 4) => new()
    {
        DmaBoundaryPages = Boundary,
        RemapThresholdCopies = threshold,
        RemapHotPages = remap,
        LowReservePages = reserve,
        DemotionBatchPages = batch,
    };

    /// <summary>Writes pattern (seed + p) to pages [0, pages) of <paramref name="guest"/>.</summary>
    private static void Fill(TestGuest guest, int pages, int seed = 100)
    {
        for (var p = 0; p < pages; p++)
        {
            guest.Write(new Ppn((uint)p), 0, TestHost.Pattern(seed + p));
        }
    }

    private static byte[] Transmit(TestHost host, TestGuest guest, uint ppn, int offset = 0, int length = PageGeometry.PageSizeBytes)
    {
        var wire = new byte[length];
        host.Manager.DmaTransfer(guest.Id, new Ppn(ppn), IoDirection.Transmit, offset, wire);
        return wire;
    }

    private static bool IsLow(TestHost host, TestGuest guest, uint ppn) =>
        host.Manager.PageInfoOf(guest.Id, new Ppn(ppn)).Mpn.Value < Boundary;

    private static uint FirstHighPage(TestHost host, TestGuest guest) =>
        Enumerable.Range(0, guest.PageCount).Select(p => (uint)p).First(p => !IsLow(host, guest, p));

    /// <summary>
    /// Consistency, and every page of the guest but the ballooned ones reads back pattern (seed + p)
    /// through its own mapping, which agrees with the pmap.
    /// </summary>
    private static void AssertIntact(TestHost host, TestGuest guest, int pages, int seed = 100, Func<uint, bool>? ballooned = null)
    {
        host.Manager.CheckConsistency();
        for (var p = 0u; p < pages; p++)
        {
            if (ballooned?.Invoke(p) == true)
            {
                continue;
            }

            Assert.True(guest.PageForRead(new Ppn(p)).SequenceEqual(TestHost.Pattern(seed + (int)p)), $"PPN {p} lost its contents");
            Assert.Equal(host.Manager.PageInfoOf(guest.Id, new Ppn(p)).Mpn, guest.MappingOf(new Ppn(p)).Mpn);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_network_heavy_vm_on_high_pages_bounces_every_transmit_until_its_hot_pages_are_remapped(bool remap)
    {
        const int threshold = 16;
        const int transmits = 10_000;
        using var host = Host(machinePages: 256, Options(threshold, remap));
        var net = host.PowerOn("net", 32);
        Fill(net, 32);
        for (var p = 0u; p < 32; p++)
        {
            Assert.False(IsLow(host, net, p), $"PPN {p} should be in high memory: guest pages go high first");
        }

        uint[] hot = [3, 7, 11, 19];
        for (var i = 0; i < transmits; i++)
        {
            var ppn = hot[i % hot.Length];
            var wire = Transmit(host, net, ppn, offset: 64, length: PacketBytes);
            Assert.True(wire.AsSpan().SequenceEqual(TestHost.Pattern(100 + (int)ppn).AsSpan(64, PacketBytes)), $"transmit {i} of PPN {ppn} sent wrong bytes");
        }

        var stats = host.Manager.GetIoRemapStats(net.Id);
        Assert.Equal(transmits, stats.Transfers);
        if (!remap)
        {
            // Every transmit of a high page goes through a bounce page.
            Assert.Equal(transmits, stats.BounceCopies);
            Assert.Equal(0, stats.Remaps);
        }
        else
        {
            // Each hot page bounces until its count reaches the threshold, then it is low: 4 × 16 = 64 copies,
            // and the other 10,000 - 64 = 9,936 transmits are direct, each a copy avoided.
            var copies = hot.Length * threshold;
            Assert.Equal(copies, stats.BounceCopies);
            Assert.Equal(hot.Length, stats.Remaps);
            Assert.Equal(transmits - copies, stats.CopiesAvoided);
            Assert.Equal(transmits - copies, stats.DirectTransfers);
            Assert.True(transmits / stats.BounceCopies >= 100, "remapping should cut copies by two orders of magnitude");
            Assert.All(hot, p => Assert.True(IsLow(host, net, p)));
            Assert.Equal(stats, host.Manager.GetIoRemapHostStats().Totals);
        }

        AssertIntact(host, net, 32);
    }

    [Fact]
    public void A_remap_moves_the_page_and_its_mapping_to_a_low_page_and_frees_the_high_one()
    {
        using var host = Host(machinePages: 128, Options(threshold: 3));
        var vm = host.PowerOn("vm", 8);
        Fill(vm, 8);
        var before = host.Manager.PageInfoOf(vm.Id, new Ppn(5)).Mpn;
        var freeBefore = host.Manager.Pool.FreePages;

        Assert.Equal(DmaPath.Bounced, host.Manager.DmaTransfer(vm.Id, new Ppn(5), IoDirection.Transmit, 0, new byte[8]));
        Assert.Equal(DmaPath.Bounced, host.Manager.DmaTransfer(vm.Id, new Ppn(5), IoDirection.Transmit, 0, new byte[8]));
        Assert.Equal(before, host.Manager.PageInfoOf(vm.Id, new Ppn(5)).Mpn);
        Assert.Equal(DmaPath.Bounced, host.Manager.DmaTransfer(vm.Id, new Ppn(5), IoDirection.Transmit, 0, new byte[8]));

        var after = host.Manager.PageInfoOf(vm.Id, new Ppn(5));
        Assert.Equal(PageState.Private, after.State);
        Assert.True(after.Mpn.Value < Boundary);
        Assert.True(host.Manager.Pool.IsFree(before), "the high page is given back");
        Assert.Equal(freeBefore, host.Manager.Pool.FreePages);
        Assert.Equal((GuestPageAccess.Writable, after.Mpn), vm.MappingOf(new Ppn(5)));
        Assert.Equal(DmaPath.Direct, host.Manager.DmaTransfer(vm.Id, new Ppn(5), IoDirection.Transmit, 0, new byte[8]));
        Assert.Equal(1, host.Manager.GetIoRemapStats(vm.Id).CopiesAvoided);
        AssertIntact(host, vm, 8);

        // Guest writes after the remap land in the low page, and the device sees them.
        vm.Write(new Ppn(5), 10, [0xAB, 0xCD]);
        Assert.Equal(new byte[] { 0xAB, 0xCD }, Transmit(host, vm, 5, offset: 10, length: 2));
    }

    [Fact]
    public void Received_bytes_reach_the_guest_through_the_bounce_page_and_after_the_remap()
    {
        using var host = Host(machinePages: 128, Options(threshold: 2));
        var vm = host.PowerOn("vm", 8);
        Fill(vm, 8);
        var expected = TestHost.Pattern(105);
        for (var i = 0; i < 4; i++)
        {
            var packet = Enumerable.Range(0, 300).Select(b => (byte)(b + (i * 7))).ToArray();
            var path = host.Manager.DmaTransfer(vm.Id, new Ppn(5), IoDirection.Receive, 1000 + i, packet);
            packet.CopyTo(expected, 1000 + i);

            // Receives 1 and 2 bounce (the second brings the count to the threshold of 2 and remaps); 3 and 4 are direct.
            Assert.Equal(i < 2 ? DmaPath.Bounced : DmaPath.Direct, path);
            Assert.True(vm.PageForRead(new Ppn(5)).SequenceEqual(expected), $"receive {i}: the guest does not see the device's bytes");
        }

        Assert.Equal(2, host.Manager.GetIoRemapStats(vm.Id).BounceCopies);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_page_that_is_not_resident_is_faulted_in_for_the_device()
    {
        using var host = Host(machinePages: 128, Options());
        var vm = host.PowerOn("vm", 8, minPages: 0);
        vm.Write(new Ppn(2), 0, TestHost.Pattern(1));
        Assert.Equal(1, host.Manager.SwapOut(vm.Id, 1).SwappedOut);
        Assert.Equal(PageState.Swapped, host.Manager.PageInfoOf(vm.Id, new Ppn(2)).State);

        Assert.Equal(TestHost.Pattern(1), Transmit(host, vm, 2));

        // An untouched page receives into a fresh zero page.
        host.Manager.DmaTransfer(vm.Id, new Ppn(6), IoDirection.Receive, 4000, new byte[] { 1, 2, 3 });
        var page6 = vm.PageForRead(new Ppn(6)).ToArray();
        Assert.Equal(new byte[] { 1, 2, 3 }, page6[4000..4003]);
        Assert.True(page6.AsSpan(0, 4000).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(2, host.Manager.GetIoRemapStats(vm.Id).DeviceFaults);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Dma_is_not_a_guest_access_an_armed_sampling_trap_survives_transfers_faults_and_remaps()
    {
        using var host = Host(machinePages: 128, Options(threshold: 2));
        var vm = host.PowerOn("vm", 8);
        Fill(vm, 8);
        Assert.Equal(1, host.Manager.SwapOut(vm.Id, 1).SwappedOut);
        var swapped = Enumerable.Range(0, 8).Select(p => new Ppn((uint)p)).Single(p => host.Manager.PageInfoOf(vm.Id, p).State == PageState.Swapped);
        var resident = new Ppn((swapped.Value + 1) % 8);
        host.Manager.ArmSampleTrap(vm.Id, swapped);
        host.Manager.ArmSampleTrap(vm.Id, resident);

        foreach (var ppn in new[] { swapped, resident })
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(TestHost.Pattern(100 + (int)ppn.Value), Transmit(host, vm, ppn.Value));
            }

            Assert.True(IsLow(host, vm, ppn.Value), $"{ppn} should have been remapped");
            Assert.True(host.Manager.IsSampleTrapArmed(vm.Id, ppn), $"a DMA to {ppn} fired its sampling trap");
            Assert.Equal(GuestPageAccess.None, vm.MappingOf(ppn).Access);
        }

        // The guest's own touch fires the trap and finds the page's contents at its new place.
        var faults = vm.Faults;
        Assert.True(vm.PageForRead(resident).SequenceEqual(TestHost.Pattern(100 + (int)resident.Value)));
        Assert.Equal(faults + 1, vm.Faults);
        Assert.False(host.Manager.IsSampleTrapArmed(vm.Id, resident));
        AssertIntact(host, vm, 8);
    }

    [Fact]
    public void A_hot_shared_page_gets_a_private_low_copy_and_the_other_sharer_keeps_the_shared_page()
    {
        using var host = Host(machinePages: 128, Options(threshold: 2));
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        var content = TestHost.Pattern(9);
        a.Write(new Ppn(1), 0, content);
        b.Write(new Ppn(1), 0, content);
        host.Manager.TryShare(a.Id, new Ppn(1));
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(1)));
        var shared = host.Manager.PageInfoOf(b.Id, new Ppn(1)).Mpn;
        Assert.True(shared.Value >= Boundary);

        Transmit(host, a, 1);
        Assert.Equal(content, Transmit(host, a, 1));

        var pa = host.Manager.PageInfoOf(a.Id, new Ppn(1));
        Assert.Equal(PageState.Private, pa.State);
        Assert.True(pa.Mpn.Value < Boundary);
        Assert.Equal(new PageInfo(PageState.Shared, shared, PageMarks.None), host.Manager.PageInfoOf(b.Id, new Ppn(1)));
        Assert.Equal(1, host.Manager.GetIoRemapStats(a.Id).SharedPagesUnshared);
        Assert.Equal(content, a.PageForRead(new Ppn(1)).ToArray());
        Assert.Equal(content, b.PageForRead(new Ppn(1)).ToArray());

        // A receive into b's shared page breaks copy-on-write first: a's copy does not change.
        host.Manager.DmaTransfer(b.Id, new Ppn(1), IoDirection.Receive, 0, new byte[] { 0xFF });
        Assert.Equal(0xFF, b.PageForRead(new Ppn(1))[0]);
        Assert.Equal(content, a.PageForRead(new Ppn(1)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void When_low_memory_is_short_cold_low_pages_move_to_high_memory_and_hot_ones_stay()
    {
        // 128 pages split at 64. The VM's first 64 pages take all of high memory, pages 64..119 the
        // first 56 low pages (MPNs 0..55 in order), leaving 64 - 56 = 8 low pages free: below the reserve of 16.
        using var host = Host(machinePages: 128, Options(reserve: 16, batch: 8));
        var vm = host.PowerOn("big", 120);
        Fill(vm, 120);
        Assert.Equal(8, host.Manager.Pool.FreeLowPages);
        uint[] hot = [64, 66, 70];
        foreach (var p in hot)
        {
            Assert.True(IsLow(host, vm, p));
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(DmaPath.Direct, host.Manager.DmaTransfer(vm.Id, new Ppn(p), IoDirection.Transmit, 0, new byte[16]));
            }
        }

        // No high page is free: nothing can move yet.
        Assert.Equal(0, host.Manager.BalanceLowMemory());

        // The guest balloons 30 of its high pages: now cold low pages can move up.
        for (var p = 0u; p < 30; p++)
        {
            host.Manager.InflateBalloonPage(vm.Id, new Ppn(p));
        }

        // Refill to reserve + batch = 24 free low pages: 24 - 8 = 16 pages move.
        Assert.Equal(16, host.Manager.BalanceLowMemory());
        Assert.Equal(24, host.Manager.Pool.FreeLowPages);
        Assert.Equal(16, host.Manager.GetIoRemapStats(vm.Id).Demotions);
        foreach (var p in hot)
        {
            Assert.True(IsLow(host, vm, p), $"hot PPN {p} was moved out of low memory");

            // The clock hand passed it once: 4 transfers halved to 2.
            Assert.Equal(2, host.Manager.IoCountOf(vm.Id, new Ppn(p)));
        }

        Assert.Equal(0, host.Manager.BalanceLowMemory());
        AssertIntact(host, vm, 120, ballooned: p => p < 30);
    }

    [Fact]
    public void A_hot_page_displaces_a_cold_low_page_when_low_memory_is_at_its_reserve_and_waits_when_none_can_move()
    {
        // High memory full (64 pages), 56 low pages used: 8 free low pages = the reserve.
        using var host = Host(machinePages: 128, Options(threshold: 8, reserve: 8, batch: 0));
        var vm = host.PowerOn("vm", 120);
        Fill(vm, 120);
        Assert.Equal(8, host.Manager.Pool.FreeLowPages);

        // No high page free, so no cold page can leave: the remap waits, and is retried after
        // threshold / 2 = 4 more copies (8 + 4 = 12 copies: two deferrals).
        for (var i = 0; i < 12; i++)
        {
            Transmit(host, vm, 0);
        }

        var stats = host.Manager.GetIoRemapStats(vm.Id);
        Assert.Equal(2, stats.RemapsDeferred);
        Assert.Equal(0, stats.Remaps);
        Assert.False(IsLow(host, vm, 0));
        Assert.Equal(8, host.Manager.Pool.FreeLowPages);

        // One high page freed: the next attempt (4 copies later) moves one cold low page up and takes its place.
        host.Manager.InflateBalloonPage(vm.Id, new Ppn(1));
        for (var i = 0; i < 4; i++)
        {
            Transmit(host, vm, 0);
        }

        stats = host.Manager.GetIoRemapStats(vm.Id);
        Assert.Equal(1, stats.Remaps);
        Assert.Equal(1, stats.Demotions);
        Assert.True(IsLow(host, vm, 0));
        Assert.Equal(8, host.Manager.Pool.FreeLowPages);
        AssertIntact(host, vm, 120, ballooned: p => p == 1);
    }

    [Fact]
    public void Decayed_counts_need_more_copies_to_reach_the_threshold()
    {
        using var host = Host(machinePages: 128, Options(threshold: 16));
        var vm = host.PowerOn("vm", 4);
        Fill(vm, 4);
        for (var i = 0; i < 10; i++)
        {
            Transmit(host, vm, 2, length: 64);
        }

        Assert.Equal(10, host.Manager.IoCountOf(vm.Id, new Ppn(2)));
        host.Manager.DecayIoCounts();
        Assert.Equal(5, host.Manager.IoCountOf(vm.Id, new Ppn(2)));

        // 5 + 10 = 15 < 16: still high; one more copy reaches 16. Copies in all: 10 + 11 = 21.
        for (var i = 0; i < 10; i++)
        {
            Transmit(host, vm, 2, length: 64);
        }

        Assert.False(IsLow(host, vm, 2));
        Transmit(host, vm, 2, length: 64);
        Assert.True(IsLow(host, vm, 2));
        Assert.Equal(21, host.Manager.GetIoRemapStats(vm.Id).BounceCopies);
    }

    [Fact]
    public void With_memory_full_a_bounce_page_is_found_by_reclaiming_and_moving_a_low_page_up()
    {
        using var host = Host(machinePages: 128, Options(reserve: 0, batch: 0));
        var vm = host.PowerOn("vm", 128);
        Fill(vm, 128);
        Assert.Equal(0, host.Manager.Pool.FreePages);
        var target = FirstHighPage(host, vm);

        Assert.Equal(TestHost.Pattern(100 + (int)target), Transmit(host, vm, target));
        Assert.True(host.Manager.GetVmStats(vm.Id).Counters.SwapOuts > 0, "memory was full: a page had to be reclaimed");
        AssertIntact(host, vm, 128);
    }

    [Fact]
    public void When_nothing_can_be_reclaimed_a_transfer_fails_cleanly_and_nothing_is_lost()
    {
        using var host = Host(machinePages: 128, Options(reserve: 0, batch: 0));
        var vm = host.PowerOn("vm", 128, minPages: 128); // min = max: nothing may be swapped
        Fill(vm, 128);
        var target = FirstHighPage(host, vm);

        Assert.Throws<MachineMemoryExhaustedException>(() => Transmit(host, vm, target));
        Assert.Equal(0, host.Manager.GetIoRemapStats(vm.Id).Transfers);
        AssertIntact(host, vm, 128);
    }

    [Fact]
    public void A_host_below_the_boundary_has_only_low_memory_and_never_bounces()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64);
        var vm = host.PowerOn("vm", 8);
        Fill(vm, 8);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(DmaPath.Direct, host.Manager.DmaTransfer(vm.Id, new Ppn((uint)(i % 8)), IoDirection.Transmit, 0, new byte[32]));
        }

        // The defaults were applied at the first transfer: a 4 GiB boundary above 32 pages.
        Assert.Equal(IoRemapOptions.FourGibPages, host.Manager.IoRemapSettings!.DmaBoundaryPages);
        var stats = host.Manager.GetIoRemapHostStats();
        Assert.Equal((32, 0), (stats.LowZonePages, stats.HighZonePages));
        Assert.Equal(0, stats.Totals.BounceCopies);
        Assert.Equal(100, stats.Totals.DirectTransfers);
    }

    [Fact]
    public void A_vm_id_reused_after_power_off_starts_with_fresh_counts_and_the_host_keeps_the_totals()
    {
        using var host = Host(machinePages: 128, Options(threshold: 100));
        var a = host.PowerOn("a", 8);
        Fill(a, 8);
        for (var i = 0; i < 5; i++)
        {
            Transmit(host, a, 3, length: 8);
        }

        // 8 guest pages × 2 bytes of counter.
        Assert.Equal(16, host.Manager.GetIoRemapHostStats().CounterBytes);
        host.Manager.PowerOff(a.Id);
        var b = host.PowerOn("b", 8);
        Assert.Equal(a.Id, b.Id);
        Assert.Equal(0, host.Manager.IoCountOf(b.Id, new Ppn(3)));
        Assert.Equal(0, host.Manager.GetIoRemapStats(b.Id).Transfers);
        Assert.Equal(5, host.Manager.GetIoRemapHostStats().Totals.BounceCopies);
        Assert.Equal(0, host.Manager.GetIoRemapHostStats().CounterBytes);
    }

    [Fact]
    public void Bad_transfers_name_the_problem_and_change_nothing()
    {
        using var host = Host(machinePages: 128, Options());
        var vm = host.PowerOn("vm", 4);
        Fill(vm, 4);

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => host.Manager.DmaTransfer(vm.Id, new Ppn(0), IoDirection.Transmit, 4000, new byte[100]));
        Assert.Contains("100 bytes at offset 4000", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Manager.DmaTransfer(vm.Id, new Ppn(0), IoDirection.Transmit, -1, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Manager.DmaTransfer(vm.Id, new Ppn(4), IoDirection.Transmit, 0, new byte[1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => host.Manager.DmaTransfer(vm.Id, new Ppn(0), (IoDirection)7, 0, new byte[1]));
        Assert.Throws<ArgumentException>(() => host.Manager.DmaTransfer(new VmId(9), new Ppn(0), IoDirection.Transmit, 0, new byte[1]));

        Assert.Equal(0, host.Manager.GetIoRemapHostStats().Totals.Transfers);
        AssertIntact(host, vm, 4);
    }
}
