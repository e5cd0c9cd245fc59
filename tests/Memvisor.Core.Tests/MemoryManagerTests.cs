using Memvisor.Core.Memory;
using Memvisor.Testing;
using Memvisor.Testing.Fakes;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Tests;

public class MemoryManagerTests
{
    [Fact]
    public void The_consistency_check_catches_a_machine_page_freed_behind_the_pmaps_back_and_names_it()
    {
        using var host = new TestHost(machinePages: 8, swapPages: 64);
        var a = host.PowerOn("a", 4);
        a.Write(new Ppn(1), 0, TestHost.Pattern(1));
        host.Manager.CheckConsistency();
        var mpn = host.Manager.PageInfoOf(a.Id, new Ppn(1)).Mpn;

        // Break an invariant the way a bug would: the pool takes back a page the pmap still maps.
        host.Manager.Pool.Free(mpn);

        var e = Assert.Throws<MemoryInconsistencyException>(host.Manager.CheckConsistency);
        Assert.Contains(mpn.ToString(), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void First_touch_gives_a_zeroed_private_page_even_when_the_machine_page_was_used_before()
    {
        using var host = new TestHost(machinePages: 4, swapPages: 64);
        var a = host.PowerOn("a", 4);
        a.Write(new Ppn(0), 0, TestHost.Pattern(1));
        host.Manager.PowerOff(a.Id);

        var b = host.PowerOn("b", 4);
        Assert.True(b.PageForRead(new Ppn(0)).IndexOfAnyExcept((byte)0) < 0, "a new VM must not see another VM's old data");
        Assert.Equal(PageState.Private, host.Manager.PageInfoOf(b.Id, new Ppn(0)).State);
        Assert.Equal(1, b.Faults);
        b.PageForRead(new Ppn(0));
        Assert.Equal(1, b.Faults);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Identical_pages_of_two_vms_share_one_machine_page_and_copy_on_write_keeps_both_contents()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 8);
        var b = host.PowerOn("b", 8);
        var content = TestHost.Pattern(7);
        a.Write(new Ppn(1), 0, content);
        b.Write(new Ppn(5), 0, content);
        var freeBefore = host.Manager.Pool.FreePages;

        Assert.False(host.Manager.TryShare(a.Id, new Ppn(1)), "the first page only leaves a hint");
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(5)));

        Assert.Equal(freeBefore + 1, host.Manager.Pool.FreePages);
        var pa = host.Manager.PageInfoOf(a.Id, new Ppn(1));
        var pb = host.Manager.PageInfoOf(b.Id, new Ppn(5));
        Assert.Equal(PageState.Shared, pa.State);
        Assert.Equal(pa.Mpn, pb.Mpn);
        Assert.Equal(GuestPageAccess.ReadOnly, a.MappingOf(new Ppn(1)).Access);
        Assert.Equal(1, host.Manager.GetHostStats().SavedPages);

        a.Write(new Ppn(1), 10, [0xEE]);
        Assert.Equal(1, host.Manager.Counters.CowBreaks);
        Assert.Equal(0xEE, a.PageForRead(new Ppn(1))[10]);
        Assert.Equal(content, b.PageForRead(new Ppn(5)).ToArray());
        var expectedA = (byte[])content.Clone();
        expectedA[10] = 0xEE;
        Assert.Equal(expectedA, a.PageForRead(new Ppn(1)).ToArray());

        // The last sharer keeps the machine page without a copy.
        var sharedMpn = pb.Mpn;
        b.Write(new Ppn(5), 0, [1]);
        Assert.Equal(sharedMpn, host.Manager.PageInfoOf(b.Id, new Ppn(5)).Mpn);
        Assert.Equal(PageState.Private, host.Manager.PageInfoOf(b.Id, new Ppn(5)).State);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Zero_pages_of_all_vms_collapse_into_one_shared_frame()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 256);
        var vms = Enumerable.Range(0, 3).Select(i => host.PowerOn($"vm{i}", 8)).ToArray();
        foreach (var vm in vms)
        {
            for (var p = 0u; p < 8; p++)
            {
                vm.Write(new Ppn(p), 0, new byte[16]);
                host.Manager.TryShare(vm.Id, new Ppn(p));
            }
        }

        var stats = host.Manager.GetHostStats();
        Assert.Equal(1, stats.SharedFrames);
        Assert.Equal(24, stats.SharedPages);
        Assert.Equal(24, stats.ZeroPages);
        Assert.Equal(23, stats.SavedPages);
        Assert.Equal(8, host.Manager.GetVmStats(vms[0].Id).ZeroPages);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_forced_hash_collision_never_shares_pages_whose_bytes_differ()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 256, hasher: new ConstantHasher());
        var a = host.PowerOn("a", 16);
        var b = host.PowerOn("b", 16);
        for (var p = 0u; p < 16; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)p));
            b.Write(new Ppn(p), 0, TestHost.Pattern(100 + (int)p));
        }

        // Only a.p3 and b.p3' equal: give b page 3 the same bytes as a page 3.
        b.Write(new Ppn(3), 0, TestHost.Pattern(3));
        for (var p = 0u; p < 16; p++)
        {
            host.Manager.TryShare(a.Id, new Ppn(p));
            host.Manager.TryShare(b.Id, new Ppn(p));
        }

        var stats = host.Manager.GetHostStats();
        Assert.Equal(1, stats.SharedFrames);
        Assert.Equal(2, stats.SharedPages);
        Assert.True(stats.Counters.Collisions > 0, "every lookup meets frames with the same key");
        Assert.Equal(host.Manager.PageInfoOf(a.Id, new Ppn(3)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(3)).Mpn);
        for (var p = 0u; p < 16; p++)
        {
            Assert.Equal(TestHost.Pattern((int)p), a.PageForRead(new Ppn(p)).ToArray());
            Assert.Equal(TestHost.Pattern(p == 3 ? 3 : 100 + (int)p), b.PageForRead(new Ppn(p)).ToArray());
        }

        host.Manager.CheckConsistency();
    }

    [Fact]
    public void A_hint_whose_page_changed_is_stale_and_is_not_shared()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        a.Write(new Ppn(0), 0, TestHost.Pattern(1));
        host.Manager.TryShare(a.Id, new Ppn(0));
        a.Write(new Ppn(0), 0, TestHost.Pattern(2)); // the hinted page changes; it is not write-protected
        Assert.Equal(GuestPageAccess.Writable, a.MappingOf(new Ppn(0)).Access);

        b.Write(new Ppn(0), 0, TestHost.Pattern(1));
        Assert.False(host.Manager.TryShare(b.Id, new Ppn(0)));
        Assert.Equal(1, host.Manager.Counters.StaleHints);
        Assert.Equal(TestHost.Pattern(2), a.PageForRead(new Ppn(0)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Vms_with_different_salts_never_share_but_pages_within_a_vm_do()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64, saltMode: ShareSaltMode.PerVm);
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        foreach (var vm in new[] { a, b })
        {
            vm.Write(new Ppn(0), 0, TestHost.Pattern(9));
            vm.Write(new Ppn(1), 0, TestHost.Pattern(9));
        }

        foreach (var vm in new[] { a, b })
        {
            host.Manager.TryShare(vm.Id, new Ppn(0));
            host.Manager.TryShare(vm.Id, new Ppn(1));
        }

        var stats = host.Manager.GetHostStats();
        Assert.Equal(2, stats.SharedFrames);
        Assert.Equal(4, stats.SharedPages);
        Assert.NotEqual(host.Manager.PageInfoOf(a.Id, new Ppn(0)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(0)).Mpn);
    }

    [Fact]
    public void An_explicit_salt_groups_vms_even_when_the_host_salts_per_vm()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64, saltMode: ShareSaltMode.PerVm);
        var a = host.PowerOn("a", 4, salt: 77);
        var b = host.PowerOn("b", 4, salt: 77);
        a.Write(new Ppn(0), 0, TestHost.Pattern(5));
        b.Write(new Ppn(0), 0, TestHost.Pattern(5));
        host.Manager.TryShare(a.Id, new Ppn(0));
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(0)));
    }

    [Fact]
    public void Uniform_pages_share_across_vms_but_other_equal_pages_only_within_a_vm()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64, saltMode: ShareSaltMode.UniformPagesAcrossVms);
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        var ones = Enumerable.Repeat((byte)0xFF, PageGeometry.PageSizeBytes).ToArray();
        foreach (var vm in new[] { a, b })
        {
            vm.Write(new Ppn(0), 0, TestHost.Pattern(9)); // equal in both VMs, not uniform
            vm.Write(new Ppn(1), 0, new byte[PageGeometry.PageSizeBytes]); // all zero
            vm.Write(new Ppn(2), 0, ones); // all 0xFF
            vm.Write(new Ppn(3), 0, TestHost.Pattern(9)); // twin of page 0 within the VM
        }

        for (var p = 0u; p < 3; p++)
        {
            host.Manager.TryShare(a.Id, new Ppn(p));
        }

        Assert.False(host.Manager.TryShare(b.Id, new Ppn(0)), "a non-uniform page equal across VMs is not shared");
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(1)), "a zero page is shared across VMs");
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(2)), "an all-0xFF page is shared across VMs");
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(3)), "a non-uniform page is shared within its VM");
        Assert.Equal(host.Manager.PageInfoOf(a.Id, new Ppn(1)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(1)).Mpn);
        Assert.Equal(host.Manager.PageInfoOf(b.Id, new Ppn(0)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(3)).Mpn);
        Assert.NotEqual(host.Manager.PageInfoOf(a.Id, new Ppn(0)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(0)).Mpn);

        // Frames: zero (a1, b1), 0xFF (a2, b2), b's pattern (b0, b3) = 3 frames of 6 pages.
        var stats = host.Manager.GetHostStats();
        Assert.Equal(3, stats.SharedFrames);
        Assert.Equal(6, stats.SharedPages);
        b.Write(new Ppn(2), 0, TestHost.Pattern(1)); // copy-on-write: a's 0xFF page keeps its bytes
        Assert.Equal(ones, a.PageForRead(new Ppn(2)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Ballooned_pages_release_their_backing_and_a_touch_gets_a_counted_zero_page()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 8);
        a.Write(new Ppn(2), 0, TestHost.Pattern(3));
        var free = host.Manager.Pool.FreePages;
        Assert.True(host.Manager.InflateBalloonPage(a.Id, new Ppn(2)));
        Assert.False(host.Manager.InflateBalloonPage(a.Id, new Ppn(2)));
        Assert.Equal(free + 1, host.Manager.Pool.FreePages);
        Assert.Equal(GuestPageAccess.None, a.MappingOf(new Ppn(2)).Access);
        Assert.Equal(1, host.Manager.GetVmStats(a.Id).BalloonedPages);

        Assert.True(a.PageForRead(new Ppn(2)).IndexOfAnyExcept((byte)0) < 0);
        var stats = host.Manager.GetVmStats(a.Id);
        Assert.Equal(1, stats.Counters.BalloonedPageTouches);
        Assert.Equal(0, stats.BalloonedPages);

        Assert.True(host.Manager.InflateBalloonPage(a.Id, new Ppn(2)));
        Assert.True(host.Manager.DeflateBalloonPage(a.Id, new Ppn(2)));
        Assert.False(host.Manager.DeflateBalloonPage(a.Id, new Ppn(2)));
        Assert.Equal(PageState.Untouched, host.Manager.PageInfoOf(a.Id, new Ppn(2)).State);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Power_off_returns_every_machine_page_swap_slot_and_reservation()
    {
        using var host = new TestHost(machinePages: 32, swapPages: 64);
        var a = host.PowerOn("a", 16, overheadPages: 2);
        var b = host.PowerOn("b", 16);
        for (var p = 0u; p < 16; p++)
        {
            a.Write(new Ppn(p), 0, TestHost.Pattern((int)(p % 4)));
            b.Write(new Ppn(p), 0, TestHost.Pattern((int)(p % 4)));
            host.Manager.TryShare(a.Id, new Ppn(p));
            host.Manager.TryShare(b.Id, new Ppn(p));
        }

        host.Manager.SwapOut(a.Id, 3);
        host.Manager.PowerOff(a.Id);
        host.Manager.CheckConsistency();
        for (var p = 0u; p < 16; p++)
        {
            Assert.Equal(TestHost.Pattern((int)(p % 4)), b.PageForRead(new Ppn(p)).ToArray());
        }

        host.Manager.PowerOff(b.Id);
        Assert.Equal(32, host.Manager.Pool.FreePages);
        Assert.Equal(0, host.Manager.Swap.UsedPages);
        Assert.Equal(0, host.Manager.Swap.ReservedPages);
        Assert.Equal(0, host.Manager.ShareTable.Count);
    }

    [Fact]
    public void Bad_arguments_name_the_problem()
    {
        using var host = new TestHost(machinePages: 8, swapPages: 8);
        var a = host.PowerOn("a", 4);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => host.Manager.HandleFault(a.Id, new Ppn(4), PageAccess.Read));
        Assert.Contains("beyond its 4 pages", e.Message, StringComparison.Ordinal);
        var off = Assert.Throws<ArgumentException>(() => host.Manager.HandleFault(new VmId(9), new Ppn(0), PageAccess.Read));
        Assert.Contains("VM 9 is not powered on", off.Message, StringComparison.Ordinal);
        var bad = Assert.Throws<ArgumentException>(() => host.PowerOn("b", 4, minPages: 5));
        Assert.Contains("min", bad.Message, StringComparison.Ordinal);
    }
}

public class SampleTrapTests
{
    [Fact]
    public void An_armed_page_faults_once_on_its_next_touch_and_the_touch_is_seen()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 4);
        a.Write(new Ppn(0), 0, TestHost.Pattern(1));
        a.Write(new Ppn(1), 0, TestHost.Pattern(2));
        Assert.True(host.Manager.ArmSampleTrap(a.Id, new Ppn(0)));
        Assert.True(host.Manager.ArmSampleTrap(a.Id, new Ppn(1)));
        Assert.Equal(GuestPageAccess.None, a.MappingOf(new Ppn(0)).Access);

        var faults = a.Faults;
        Assert.Equal(TestHost.Pattern(1), a.PageForRead(new Ppn(0)).ToArray());
        a.PageForRead(new Ppn(0));
        Assert.Equal(faults + 1, a.Faults);
        Assert.False(host.Manager.IsSampleTrapArmed(a.Id, new Ppn(0)));
        Assert.True(host.Manager.IsSampleTrapArmed(a.Id, new Ppn(1)));
        Assert.True(host.Manager.DisarmSampleTrap(a.Id, new Ppn(0)));
        Assert.False(host.Manager.DisarmSampleTrap(a.Id, new Ppn(1)));
        Assert.Equal(GuestPageAccess.Writable, a.MappingOf(new Ppn(1)).Access);
    }

    [Fact]
    public void Sharing_or_swapping_an_armed_page_does_not_count_as_a_touch()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 64);
        var a = host.PowerOn("a", 4);
        var b = host.PowerOn("b", 4);
        a.Write(new Ppn(0), 0, TestHost.Pattern(3));
        b.Write(new Ppn(0), 0, TestHost.Pattern(3));
        a.Write(new Ppn(1), 0, TestHost.Pattern(4));
        host.Manager.ArmSampleTrap(a.Id, new Ppn(0));
        host.Manager.ArmSampleTrap(a.Id, new Ppn(1));
        host.Manager.TryShare(b.Id, new Ppn(0));
        Assert.True(host.Manager.TryShare(a.Id, new Ppn(0)));
        host.Manager.SwapOut(a.Id, 1);
        Assert.Equal(PageState.Swapped, host.Manager.PageInfoOf(a.Id, new Ppn(1)).State);
        Assert.True(host.Manager.IsSampleTrapArmed(a.Id, new Ppn(0)));
        Assert.True(host.Manager.IsSampleTrapArmed(a.Id, new Ppn(1)));
        Assert.Equal(GuestPageAccess.None, a.MappingOf(new Ppn(0)).Access);
        Assert.Equal(TestHost.Pattern(4), a.PageForRead(new Ppn(1)).ToArray());
        Assert.False(host.Manager.IsSampleTrapArmed(a.Id, new Ppn(1)));
    }
}

public class SaltIsolationTests
{
    /// <summary>
    /// Shared frames keep 48 of the key's 64 bits. Salts chosen so that the salted keys of equal pages
    /// differ only in the 16 bits a shared frame drops (salt2 = salt1 XOR (delta × φ⁻¹), delta < 2^16)
    /// must still never share: the manager checks the frame's salt.
    /// </summary>
    [Fact]
    public void Equal_pages_whose_salted_keys_agree_on_the_kept_bits_never_share_across_salts()
    {
        const ulong phi = 0x9E3779B97F4A7C15UL;
        var phiInverse = phi; // Newton's iteration for the inverse of an odd number modulo 2^64
        for (var i = 0; i < 6; i++)
        {
            phiInverse *= 2 - (phi * phiInverse);
        }

        Assert.Equal(1UL, phi * phiInverse);
        const ulong salt1 = 7;
        var salt2 = unchecked((salt1 * phi) ^ 0x1234UL) * phiInverse; // salt2 × φ = salt1 × φ XOR 0x1234
        Assert.Equal(0x1234UL, Sharing.ShareMatcher.SaltedKey(0, salt1) ^ Sharing.ShareMatcher.SaltedKey(0, salt2));

        using var host = new TestHost(machinePages: 32, swapPages: 64);
        var a1 = host.PowerOn("a1", 4, salt: salt1);
        var a2 = host.PowerOn("a2", 4, salt: salt1);
        var b = host.PowerOn("b", 4, salt: salt2);
        foreach (var vm in new[] { a1, a2, b })
        {
            vm.Write(new Ppn(0), 0, TestHost.Pattern(42));
        }

        host.Manager.TryShare(a1.Id, new Ppn(0));
        Assert.True(host.Manager.TryShare(a2.Id, new Ppn(0)), "same salt: shared");
        Assert.False(host.Manager.TryShare(b.Id, new Ppn(0)), "other salt: never shared");
        Assert.NotEqual(host.Manager.PageInfoOf(a1.Id, new Ppn(0)).Mpn, host.Manager.PageInfoOf(b.Id, new Ppn(0)).Mpn);
        Assert.Equal(PageState.Private, host.Manager.PageInfoOf(b.Id, new Ppn(0)).State);
        host.Manager.CheckConsistency();
    }
}
