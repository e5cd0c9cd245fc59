/*
 * Invariants of TestGuest (the guest side of a substrate, reduced to what Core's tests need):
 *   1. An access that hits the mapping reads or writes the machine page directly; Core is not told.
 *   2. A miss (unmapped, or a write to a read-only page) calls MemoryManager.HandleFault once; if Core
 *      returns without mapping the page for that access, the access fails as a Core bug.
 *   3. Faults + Hits counts every access made through PageForRead and PageForWrite.
 */
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Testing.Contracts;

namespace Memvisor.Testing.Fakes;

/// <summary>
/// One VM's guest physical memory in tests: accesses go through a <see cref="RecordingGuestMapping"/>
/// to machine memory, and a miss calls <see cref="MemoryManager.HandleFault"/>, as a substrate does.
/// </summary>
public sealed class TestGuest : IGuestUnderTest
{
    private readonly MemoryManager _manager;
    private readonly IMachineMemory _memory;
    private VmId _id;

    private TestGuest(MemoryManager manager, IMachineMemory memory, int pages)
    {
        _manager = manager;
        _memory = memory;
        Mapping = new RecordingGuestMapping(pages);
    }

    /// <summary>The VM's id.</summary>
    public VmId Id => _id;

    /// <summary>Guest physical pages.</summary>
    public int PageCount => Mapping.PageCount;

    /// <summary>The mapping Core drives: its table and every call Core made.</summary>
    public RecordingGuestMapping Mapping { get; }

    IGuestMapping IGuestUnderTest.Mapping => Mapping;

    /// <summary>Accesses that missed their mapping and went to Core.</summary>
    public long Faults { get; private set; }

    /// <summary>Accesses that hit their mapping.</summary>
    public long Hits { get; private set; }

    /// <summary>Powers a VM on in <paramref name="manager"/> with a new recording mapping.</summary>
    public static TestGuest PowerOn(MemoryManager manager, IMachineMemory memory, VmMemoryConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Attach(manager, memory, config.MaxPages, mapping => manager.PowerOn(config, mapping));
    }

    /// <summary>
    /// Creates guest memory of <paramref name="pages"/> pages and powers the VM on through
    /// <paramref name="powerOn"/> (e.g. the host policy's admission control), which receives the mapping.
    /// </summary>
    public static TestGuest Attach(MemoryManager manager, IMachineMemory memory, int pages, Func<IGuestMapping, VmId> powerOn)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(powerOn);
        var guest = new TestGuest(manager, memory, pages);
        guest._id = powerOn(guest.Mapping);
        return guest;
    }

    /// <summary>How <paramref name="ppn"/> is mapped now, and to which machine page.</summary>
    public (GuestPageAccess Access, Mpn Mpn) MappingOf(Ppn ppn) => Mapping.MappingOf(ppn);

    /// <summary>A guest load of <c>destination.Length</c> bytes at <paramref name="offset"/> in page <paramref name="ppn"/>.</summary>
    public void Read(Ppn ppn, int offset, Span<byte> destination) =>
        PageForRead(ppn).Slice(offset, destination.Length).CopyTo(destination);

    /// <summary>A guest store of <paramref name="source"/> at <paramref name="offset"/> in page <paramref name="ppn"/>.</summary>
    public void Write(Ppn ppn, int offset, ReadOnlySpan<byte> source) =>
        source.CopyTo(PageForWrite(ppn).Slice(offset, source.Length));

    /// <summary>The whole page as the guest reads it (faulting it in if needed).</summary>
    public ReadOnlySpan<byte> PageForRead(Ppn ppn) => Access(ppn, PageAccess.Read);

    /// <summary>The whole page for a guest store (faulting or breaking copy-on-write if needed).</summary>
    public Span<byte> PageForWrite(Ppn ppn) => Access(ppn, PageAccess.Write);

    /// <summary>A device that can address only low memory transfers a whole page to or from <paramref name="ppn"/> through Core.</summary>
    public DmaPath DmaTransfer(Ppn ppn, IoDirection direction, Span<byte> page) =>
        _manager.DmaTransfer(_id, ppn, direction, 0, page);

    private Span<byte> Access(Ppn ppn, PageAccess access)
    {
        if (Allows(Mapping.MappingOf(ppn).Access, access))
        {
            Hits++;
        }
        else
        {
            Faults++;
            _manager.HandleFault(_id, ppn, access);
            if (!Allows(Mapping.MappingOf(ppn).Access, access))
            {
                throw new InvalidOperationException($"{_id} {ppn}: Core resolved a {access} fault without mapping the page for it.");
            }
        }

        return _memory.GetPage(Mapping.MappingOf(ppn).Mpn);
    }

    private static bool Allows(GuestPageAccess mapped, PageAccess access) =>
        mapped == GuestPageAccess.Writable || (mapped == GuestPageAccess.ReadOnly && access == PageAccess.Read);
}
