/*
 * The guest mapping contract (IGuestMapping and the guest side of a substrate). Core calls the mapping
 * whenever a pmap entry changes; the substrate lets accesses that hit the mapping go straight to machine
 * memory and calls MemoryManager.HandleFault on a miss or a write to a read-only page. Every substrate
 * that owns memory must then give:
 *   1. A new mapping maps nothing: the first access to a page faults once, and Core's answer maps it,
 *      writable, to the machine page its pmap names; later accesses hit.
 *   2. A mapped access reads and writes the machine page itself, not a copy of it.
 *   3. A page mapped read-only is read without a fault; a write to it faults (copy-on-write).
 *   4. After Invalidate, the next access faults, and the page's bytes survive (Core remaps it).
 *   5. Each call changes only the page it names; mapping a page to another machine page redirects
 *      the guest's next access there (hot-page remapping relies on it).
 *   6. Pages Core takes away (swapped out) are unmapped, and read back intact on the next access.
 * The host is Core over machine memory from CreateMemory (array-backed unless the substrate needs its own).
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Testing.Fakes;

namespace Memvisor.Testing.Contracts;

/// <summary>A VM's guest side as the guest mapping contract drives it.</summary>
public interface IGuestUnderTest
{
    /// <summary>The VM's id in the manager.</summary>
    VmId Id { get; }

    /// <summary>The mapping Core drives.</summary>
    IGuestMapping Mapping { get; }

    /// <summary>Accesses that missed their mapping and went to Core.</summary>
    long Faults { get; }

    /// <summary>How <paramref name="ppn"/> is mapped now (<see cref="Mpn.None"/> when it is not).</summary>
    (GuestPageAccess Access, Mpn Mpn) MappingOf(Ppn ppn);

    /// <summary>The page as a guest load sees it (faulting to Core on a miss).</summary>
    ReadOnlySpan<byte> PageForRead(Ppn ppn);

    /// <summary>The page for a guest store (faulting to Core on a miss or a read-only mapping).</summary>
    Span<byte> PageForWrite(Ppn ppn);
}

/// <summary>What every substrate's guest mapping, and the guest side that faults through it, must do.</summary>
public abstract class GuestMappingContract
{
    /// <summary>Powers a VM on in <paramref name="manager"/> with the substrate's mapping over <paramref name="memory"/>.</summary>
    protected abstract IGuestUnderTest PowerOn(MemoryManager manager, IMachineMemory memory, VmMemoryConfig config);

    /// <summary>The machine memory the host runs on.</summary>
    protected virtual IMachineMemory CreateMemory(int pageCount) => new ArrayMachineMemory(pageCount);

    [Fact]
    public void A_new_mapping_maps_nothing_and_the_first_access_faults_once()
    {
        using var host = Host();
        var guest = PowerOn(host, "a", 4);
        for (var p = 0u; p < 4; p++)
        {
            Assert.Equal((GuestPageAccess.None, Mpn.None), guest.MappingOf(new Ppn(p)));
        }

        guest.PageForWrite(new Ppn(2))[0] = 7;
        Assert.Equal(1, guest.Faults);
        Assert.Equal((GuestPageAccess.Writable, host.Manager.PageInfoOf(guest.Id, new Ppn(2)).Mpn), guest.MappingOf(new Ppn(2)));

        guest.PageForWrite(new Ppn(2))[1] = 8;
        Assert.Equal(7, guest.PageForRead(new Ppn(2))[0]);
        Assert.Equal(1, guest.Faults);
    }

    [Fact]
    public void A_mapped_access_reads_and_writes_the_machine_page_itself()
    {
        using var host = Host();
        var guest = PowerOn(host, "a", 4);
        TestHost.Pattern(1).CopyTo(guest.PageForWrite(new Ppn(1)));
        var mpn = guest.MappingOf(new Ppn(1)).Mpn;

        Assert.Equal(TestHost.Pattern(1), host.Memory.GetPage(mpn).ToArray());
        TestHost.Pattern(2).CopyTo(host.Memory.GetPage(mpn));
        Assert.Equal(TestHost.Pattern(2), guest.PageForRead(new Ppn(1)).ToArray());
        Assert.Equal(1, guest.Faults);
    }

    [Fact]
    public void A_shared_page_is_read_without_a_fault_and_a_write_to_it_faults_and_breaks_copy_on_write()
    {
        using var host = Host();
        var a = PowerOn(host, "a", 2);
        var b = PowerOn(host, "b", 2);
        TestHost.Pattern(3).CopyTo(a.PageForWrite(new Ppn(0)));
        TestHost.Pattern(3).CopyTo(b.PageForWrite(new Ppn(0)));
        host.Manager.TryShare(a.Id, new Ppn(0));
        Assert.True(host.Manager.TryShare(b.Id, new Ppn(0)));
        var shared = host.Manager.PageInfoOf(a.Id, new Ppn(0)).Mpn;

        Assert.Equal(TestHost.Pattern(3), a.PageForRead(new Ppn(0)).ToArray());
        Assert.Equal(TestHost.Pattern(3), b.PageForRead(new Ppn(0)).ToArray());
        Assert.Equal((GuestPageAccess.ReadOnly, shared), a.MappingOf(new Ppn(0)));
        Assert.Equal((GuestPageAccess.ReadOnly, shared), b.MappingOf(new Ppn(0)));
        var faults = a.Faults;
        Assert.Equal(TestHost.Pattern(3), a.PageForRead(new Ppn(0)).ToArray());
        Assert.Equal(faults, a.Faults);

        a.PageForWrite(new Ppn(0))[0] ^= 0xFF;
        Assert.Equal(faults + 1, a.Faults);
        Assert.Equal(GuestPageAccess.Writable, a.MappingOf(new Ppn(0)).Access);
        Assert.NotEqual(shared, a.MappingOf(new Ppn(0)).Mpn);
        Assert.Equal(TestHost.Pattern(3), b.PageForRead(new Ppn(0)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void After_invalidate_the_next_access_faults_and_the_bytes_survive()
    {
        using var host = Host();
        var guest = PowerOn(host, "a", 4);
        TestHost.Pattern(4).CopyTo(guest.PageForWrite(new Ppn(3)));

        guest.Mapping.Invalidate(new Ppn(3));
        Assert.Equal(GuestPageAccess.None, guest.MappingOf(new Ppn(3)).Access);
        Assert.Equal(TestHost.Pattern(4), guest.PageForRead(new Ppn(3)).ToArray());
        Assert.Equal(2, guest.Faults);
        Assert.Equal(GuestPageAccess.Writable, guest.MappingOf(new Ppn(3)).Access);
    }

    [Fact]
    public void Each_call_changes_only_its_page_and_a_remap_redirects_the_next_access()
    {
        using var host = Host();
        var guest = PowerOn(host, "a", 4);
        for (var p = 0u; p < 4; p++)
        {
            TestHost.Pattern(10 + (int)p).CopyTo(guest.PageForWrite(new Ppn(p)));
        }

        var before = Enumerable.Range(0, 4).Select(p => guest.MappingOf(new Ppn((uint)p))).ToArray();
        guest.Mapping.Invalidate(new Ppn(1));
        guest.Mapping.MapReadOnly(new Ppn(2), before[2].Mpn);
        guest.Mapping.MapWritable(new Ppn(0), before[3].Mpn);

        Assert.Equal(GuestPageAccess.None, guest.MappingOf(new Ppn(1)).Access);
        Assert.Equal((GuestPageAccess.ReadOnly, before[2].Mpn), guest.MappingOf(new Ppn(2)));
        Assert.Equal((GuestPageAccess.Writable, before[3].Mpn), guest.MappingOf(new Ppn(0)));
        Assert.Equal(before[3], guest.MappingOf(new Ppn(3)));
        Assert.Equal(TestHost.Pattern(13), guest.PageForRead(new Ppn(0)).ToArray());
        Assert.Equal(TestHost.Pattern(12), guest.PageForRead(new Ppn(2)).ToArray());
        Assert.Equal(4, guest.Faults);

        // Put the mapping back as Core had it, and Core finds everything consistent.
        guest.Mapping.MapWritable(new Ppn(0), before[0].Mpn);
        guest.Mapping.MapWritable(new Ppn(2), before[2].Mpn);
        Assert.Equal(TestHost.Pattern(10), guest.PageForRead(new Ppn(0)).ToArray());
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Pages_swapped_out_are_unmapped_and_read_back_intact()
    {
        using var host = Host();
        var guest = PowerOn(host, "a", 8);
        for (var p = 0u; p < 8; p++)
        {
            TestHost.Pattern(20 + (int)p).CopyTo(guest.PageForWrite(new Ppn(p)));
        }

        Assert.Equal(8, host.Manager.SwapOut(guest.Id, 8).SwappedOut);
        for (var p = 0u; p < 8; p++)
        {
            Assert.Equal(PageState.Swapped, host.Manager.PageInfoOf(guest.Id, new Ppn(p)).State);
            Assert.Equal(GuestPageAccess.None, guest.MappingOf(new Ppn(p)).Access);
        }

        for (var p = 0u; p < 8; p++)
        {
            Assert.Equal(TestHost.Pattern(20 + (int)p), guest.PageForRead(new Ppn(p)).ToArray());
        }

        Assert.Equal(16, guest.Faults);
        host.Manager.CheckConsistency();
    }

    private TestHost Host() => new(machinePages: 64, swapPages: 64, memory: CreateMemory(64));

    private IGuestUnderTest PowerOn(TestHost host, string name, int pages) =>
        PowerOn(host.Manager, host.Memory, TestHost.Config(name, pages));
}
