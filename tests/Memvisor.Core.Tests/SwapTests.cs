using Memvisor.Core.Memory;
using Memvisor.Core.Swap;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Tests;

public class SwapTests
{
    [Fact]
    public void Swapped_pages_come_back_with_their_bytes_and_their_slots_are_reused()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64);
        var a = host.PowerOn("a", 16);
        for (var p = 0u; p < 16; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        var free = host.Manager.Pool.FreePages;
        var result = host.Manager.SwapOut(a.Id, 10);
        Assert.Equal(10, result.SwappedOut);
        Assert.Equal(SwapOutStop.Done, result.Stop);
        Assert.Equal(free + 10, host.Manager.Pool.FreePages);
        Assert.Equal(10, host.Manager.Swap.UsedPages);
        Assert.True(host.Manager.Counters.SwapWriteOperations < 10, "victims of one batch are written in clusters");
        host.Manager.CheckConsistency();

        for (var p = 0u; p < 16; p++)
        {
            Assert.Equal(TestHost.Pattern((int)p), a.PageForRead(new Ppn(p)).ToArray());
        }

        Assert.Equal(10, host.Manager.GetVmStats(a.Id).Counters.SwapIns);
        Assert.Equal(0, host.Manager.Swap.UsedPages);
        host.Manager.SwapOut(a.Id, 16);
        Assert.Equal(16, host.Manager.Swap.UsedPages);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_victim_whose_contents_already_exist_is_shared_instead_of_written()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        a.Write(new Ppn(0), 0, TestHost.Pattern(4));
        host.Manager.TryShare(a.Id, new Ppn(0)); // a hint
        b.Write(new Ppn(3), 0, TestHost.Pattern(4)); // b's only private page

        var result = host.Manager.SwapOut(b.Id, 1);
        Assert.Equal(1, result.SharedInstead);
        Assert.Equal(0, result.SwappedOut);
        Assert.Equal(0, host.Manager.Counters.SwapPagesWritten);
        Assert.Equal(TestHost.Pattern(4), b.PageForRead(new Ppn(3)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Admission_refuses_a_vm_whose_max_minus_min_the_swap_area_cannot_cover()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 10);
        host.PowerOn("a", 8, minPages: 2);
        var e = Assert.Throws<AdmissionException>(() => host.PowerOn("b", 8, minPages: 2));
        Assert.Contains("'b'", e.Message, StringComparison.Ordinal);
        Assert.Contains("2 short", e.Message, StringComparison.Ordinal);
        host.PowerOn("c", 8, minPages: 4);
    }

    [Fact]
    public void A_vm_never_swaps_below_its_min()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 8, minPages: 6);
        for (var p = 0u; p < 8; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        var result = host.Manager.SwapOut(a.Id, 8);
        Assert.Equal(2, result.SwappedOut);
        Assert.Equal(SwapOutStop.ReservationUsed, result.Stop);
        var b = host.PowerOn("b", 4);
        Assert.Equal(SwapOutStop.NoPrivatePage, host.Manager.SwapOut(b.Id, 1).Stop);
    }

    [Fact]
    public void A_full_disk_leaves_every_page_resident_and_reports_the_error()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64, swapDevice: new InMemorySwapDevice("full-disk") { FailWrites = true });
        var a = host.PowerOn("a", 16);
        for (var p = 0u; p < 16; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
        }

        var free = host.Manager.Pool.FreePages;
        var result = host.Manager.SwapOut(a.Id, 8);
        Assert.Equal(0, result.SwappedOut);
        Assert.Equal(SwapOutStop.WriteFailed, result.Stop);
        Assert.Contains("full-disk", result.WriteError?.Message, StringComparison.Ordinal);
        Assert.Equal(free, host.Manager.Pool.FreePages);
        Assert.Equal(1, host.Manager.Counters.SwapWriteErrors);
        Assert.Equal(0, host.Manager.Swap.UsedPages);
        host.Manager.CheckConsistency();
        for (var p = 0u; p < 16; p++)
        {
            Assert.Equal(GuestPageAccess.Writable, a.MappingOf(new Ppn(p)).Access);
            Assert.Equal(TestHost.Pattern((int)p), a.PageForRead(new Ppn(p)).ToArray());
        }
    }

    [Fact]
    public void A_slot_that_fails_its_checksum_is_reported_and_never_handed_to_the_guest()
    {
        var device = new InMemorySwapDevice();
        using var host = new TestHost(machinePages: 16, swapPages: 16, swapDevice: device);
        var a = host.PowerOn("a", 1);
        a.Write(new Ppn(0), 0, TestHost.Pattern(11));
        Assert.Equal(1, host.Manager.SwapOut(a.Id, 1).SwappedOut);

        device.CorruptReads = true;
        var e = Assert.Throws<SwapReadException>(() => a.PageForRead(new Ppn(0)));
        Assert.True(e.ChecksumMismatch);
        Assert.Equal(PageState.Swapped, host.Manager.PageInfoOf(a.Id, new Ppn(0)).State);
        Assert.Equal(1, host.Manager.Counters.SwapChecksumFailures);
        host.Manager.CheckConsistency();

        device.CorruptReads = false;
        Assert.Equal(TestHost.Pattern(11), a.PageForRead(new Ppn(0)).ToArray());
    }

    [Fact]
    public void Faults_on_a_full_machine_reclaim_by_swapping_and_lose_nothing()
    {
        using var host = new TestHost(machinePages: 8, swapPages: 64);
        var a = host.PowerOn("a", 24);
        for (var round = 0; round < 3; round++)
        {
            for (var p = 0u; p < 24; p++)
            {
                a.Write(new Ppn(p), 0, TestHost.Pattern((int)p + (round * 100)));
            }

            for (var p = 0u; p < 24; p++)
            {
                Assert.Equal(TestHost.Pattern((int)p + (round * 100)), a.PageForRead(new Ppn(p)).ToArray());
            }
        }

        Assert.True(host.Manager.SynchronousReclaims > 0);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_fault_that_cannot_reclaim_anything_says_so()
    {
        using var host = new TestHost(machinePages: 4, swapPages: 64);
        var a = host.PowerOn("a", 8, minPages: 8);
        for (var p = 0u; p < 4; p++)
        {
            a.Write(new Ppn(p), 0, [1]);
        }

        var e = Assert.Throws<MachineMemoryExhaustedException>(() => a.Write(new Ppn(4), 0, [1]));
        Assert.Contains("no free machine page", e.Message, StringComparison.Ordinal);
        Assert.Equal(PageState.Untouched, host.Manager.PageInfoOf(a.Id, new Ppn(4)).State);
        host.Manager.CheckConsistency();
    }
}

public class SynchronousReclaimTests
{
    [Fact]
    public void A_fault_still_succeeds_when_the_policys_chosen_victim_cannot_give_anything()
    {
        using var host = new TestHost(machinePages: 8, swapPages: 64);
        var pinned = host.PowerOn("pinned", 4, minPages: 4);
        var other = host.PowerOn("other", 8);
        for (var p = 0u; p < 4; p++)
        {
            pinned.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
            other.Write(new Ppn(p), 0, TestHost.Pattern(10 + (int)p));
        }

        host.Manager.ReclaimVictimChooser = _ => pinned.Id; // at its min: swapping it frees nothing
        other.Write(new Ppn(4), 0, TestHost.Pattern(99));
        Assert.Equal(TestHost.Pattern(99), other.PageForRead(new Ppn(4)).ToArray());
        for (var p = 0u; p < 4; p++)
        {
            Assert.Equal(TestHost.Pattern((int)p), pinned.PageForRead(new Ppn(p)).ToArray());
            Assert.Equal(TestHost.Pattern(10 + (int)p), other.PageForRead(new Ppn(p)).ToArray());
        }

        host.Manager.CheckConsistency();
    }
}
