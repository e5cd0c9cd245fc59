/*
 * A simulated guest's physical memory: the simulator's side of the fault-driven contract.
 *
 * The guest mapping is a per-VM table (PPN -> MPN and access: none, read-only, writable; one 32-bit
 * word per page, so machine memory is limited to 2^30 pages, 4 TiB) that Core keeps up to date
 * through IGuestMapping. Every simulated guest access checks the table: a hit reads or
 * writes the machine page directly, as hardware with shadow page tables would; a miss (no mapping, or
 * a write to a read-only page) calls MemoryManager.HandleFault and then retries. Core is never told
 * about accesses that hit, exactly as under KVM.
 *
 * So that a simulated guest can charge each access its cost, a miss is classified before Core resolves
 * it, from the page's pmap state (zero-fill, copy-on-write break, host swap-in, ballooned touch, or a
 * minor fault that only remaps: a sampling trap or a page left unmapped by a share comparison). The
 * kind of the last access's fault and a count per kind are kept here; the latencies are the guest's.
 */
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Simulation.Images;

namespace Memvisor.Simulation.Memory;

/// <summary>What a guest access cost the host: none (a hit) or the kind of fault Core resolved.</summary>
public enum GuestFaultKind : byte
{
    /// <summary>The access hit its mapping.</summary>
    None = 0,

    /// <summary>The page was resident but unmapped (sampling trap, share comparison): Core only remapped it.</summary>
    Minor = 1,

    /// <summary>First touch of a page: Core gave it a fresh zeroed machine page.</summary>
    ZeroFill = 2,

    /// <summary>A write to a shared page: Core broke copy-on-write.</summary>
    CopyOnWrite = 3,

    /// <summary>The page was in host swap: Core read it back.</summary>
    HostSwapIn = 4,

    /// <summary>The page was held by the balloon: Core gave it a fresh zero page.</summary>
    BalloonTouch = 5,
}

/// <summary>One simulated VM's guest physical memory over the host's machine memory.</summary>
public sealed class GuestPhysicalMemory : IGuestMapping
{
    private readonly MemoryManager _manager;
    private readonly IMachineMemory _memory;
    // The same memory when it is the simulator's own, which records what its pages hold (null otherwise).
    private readonly NativeMachineMemory? _native;
    // One word per PPN (one cache line fetch per access): the MPN in the low 30 bits, the access above.
    private const int AccessShift = 30;
    private const uint MpnMask = (1u << AccessShift) - 1;
    private readonly uint[] _entries;
    private readonly long[] _faultsByKind = new long[6];
    private VmId _id;

    private GuestPhysicalMemory(MemoryManager manager, IMachineMemory memory, int pages)
    {
        _manager = manager;
        _memory = memory;
        _native = memory as NativeMachineMemory;
        _entries = new uint[pages];
    }

    /// <summary>The VM's id.</summary>
    public VmId Id => _id;

    /// <summary>Guest physical pages.</summary>
    public int PageCount => _entries.Length;

    /// <summary>Accesses that missed their mapping and went to Core.</summary>
    public long Faults { get; private set; }

    /// <summary>Accesses that hit their mapping.</summary>
    public long Hits { get; private set; }

    /// <summary>What the last access (PageForRead, PageForWrite, Read, Write) cost: <see cref="GuestFaultKind.None"/> for a hit.</summary>
    public GuestFaultKind LastFault { get; private set; }

    /// <summary>Faults of one kind so far (<see cref="GuestFaultKind.None"/>: hits).</summary>
    public long FaultsOf(GuestFaultKind kind) => kind == GuestFaultKind.None ? Hits : _faultsByKind[(int)kind];

    /// <summary>
    /// Creates simulated memory of <paramref name="pages"/> pages and powers the VM on through
    /// <paramref name="powerOn"/> (e.g. the host policy's admission control), which receives the mapping.
    /// </summary>
    public static GuestPhysicalMemory Attach(MemoryManager manager, IMachineMemory memory, int pages, Func<IGuestMapping, VmId> powerOn)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(powerOn);
        var guest = new GuestPhysicalMemory(manager, memory, pages);
        guest._id = powerOn(guest);
        return guest;
    }

    /// <summary>Powers a VM on in <paramref name="manager"/> with this simulated memory as its mapping.</summary>
    public static GuestPhysicalMemory PowerOn(MemoryManager manager, IMachineMemory memory, VmMemoryConfig config)
    {
        ArgumentNullException.ThrowIfNull(manager);
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(config);
        var guest = new GuestPhysicalMemory(manager, memory, config.MaxPages);
        guest._id = manager.PowerOn(config, guest);
        return guest;
    }

    /// <summary>How <paramref name="ppn"/> is mapped now, and to which machine page.</summary>
    public (GuestPageAccess Access, Mpn Mpn) MappingOf(Ppn ppn) =>
        (AccessOf(_entries[ppn.Value]), AccessOf(_entries[ppn.Value]) == GuestPageAccess.None ? Mpn.None : new Mpn(_entries[ppn.Value] & MpnMask));

    /// <summary>A guest load of <c>destination.Length</c> bytes at <paramref name="offset"/> in page <paramref name="ppn"/>.</summary>
    public void Read(Ppn ppn, int offset, Span<byte> destination) =>
        PageForRead(ppn).Slice(offset, destination.Length).CopyTo(destination);

    /// <summary>A guest store of <paramref name="source"/> at <paramref name="offset"/> in page <paramref name="ppn"/>.</summary>
    public void Write(Ppn ppn, int offset, ReadOnlySpan<byte> source) =>
        source.CopyTo(PageForWrite(ppn).Slice(offset, source.Length));

    /// <summary>The whole page as the guest reads it (faulting it in if needed).</summary>
    public ReadOnlySpan<byte> PageForRead(Ppn ppn)
    {
        CheckPpn(ppn);
        if (AccessOf(_entries[ppn.Value]) == GuestPageAccess.None)
        {
            Fault(ppn, PageAccess.Read);
        }
        else
        {
            Hits++;
            LastFault = GuestFaultKind.None;
        }

        var mpn = new Mpn(_entries[ppn.Value] & MpnMask);
        return _native is null ? _memory.GetPage(mpn) : _native.ReadPage(mpn);
    }

    /// <summary>
    /// Whether the machine page <paramref name="ppn"/> is mapped to holds <paramref name="token"/>'s page for
    /// certain (<see cref="NativeMachineMemory.KnownContents"/>): always false on other machine memory, for an unmapped page or for <see cref="PageContent.Unknown"/>.
    /// </summary>
    public bool HoldsForCertain(Ppn ppn, ulong token)
    {
        CheckPpn(ppn);
        var entry = _entries[ppn.Value];
        return _native is not null && token != PageContent.Unknown && AccessOf(entry) != GuestPageAccess.None && _native.KnownContents(new Mpn(entry & MpnMask)) == token;
    }

    /// <summary>
    /// The guest has just written <paramref name="token"/>'s page over <paramref name="ppn"/>, or compared every byte
    /// it read there with it: the machine page it is mapped to records so (nothing on other machine memory).
    /// </summary>
    public void RecordContents(Ppn ppn, ulong token)
    {
        CheckPpn(ppn);
        var entry = _entries[ppn.Value];
        if (_native is not null && AccessOf(entry) != GuestPageAccess.None)
        {
            _native.RecordContents(new Mpn(entry & MpnMask), token);
        }
    }

    /// <summary>The whole page for a guest store (faulting or breaking copy-on-write if needed).</summary>
    public Span<byte> PageForWrite(Ppn ppn) => _memory.GetPage(WritableMpn(ppn));

    /// <summary>
    /// A guest store of zeros over the whole page (faulting or breaking copy-on-write as
    /// <see cref="PageForWrite"/> does). Machine memory that knows the page still reads as zeros (nothing
    /// wrote it since it was mapped) leaves it as it is, unbacked: the bytes are the same either way.
    /// </summary>
    public void ZeroPage(Ppn ppn)
    {
        var mpn = WritableMpn(ppn);
        if (_memory is NativeMachineMemory native)
        {
            native.ZeroTouched(mpn);
        }
        else
        {
            _memory.GetPage(mpn).Clear();
        }
    }

    /// <summary>
    /// A device that can address only low memory (a network card) transfers a whole page to or from
    /// <paramref name="ppn"/> through Core (which bounces it through low memory or remaps a hot page).
    /// A page that is not resident is faulted in by Core for the device; <see cref="LastFault"/> says
    /// what that cost, as for a guest access.
    /// </summary>
    public DmaPath DmaTransfer(Ppn ppn, IoDirection direction, Span<byte> page)
    {
        CheckPpn(ppn);
        var kind = Classify(ppn, direction == IoDirection.Receive, GuestFaultKind.None);
        var path = _manager.DmaTransfer(_id, ppn, direction, 0, page);
        Record(kind);
        return path;
    }

    /// <inheritdoc/>
    public void MapWritable(Ppn ppn, Mpn mpn)
    {
        _entries[ppn.Value] = Entry(mpn, GuestPageAccess.Writable);
    }

    /// <inheritdoc/>
    public void MapReadOnly(Ppn ppn, Mpn mpn)
    {
        _entries[ppn.Value] = Entry(mpn, GuestPageAccess.ReadOnly);
    }

    /// <inheritdoc/>
    public void Invalidate(Ppn ppn) => _entries[ppn.Value] &= MpnMask;

    /// <summary>The machine page <paramref name="ppn"/> is mapped writable to, after a write fault if it was not.</summary>
    private Mpn WritableMpn(Ppn ppn)
    {
        CheckPpn(ppn);
        if (AccessOf(_entries[ppn.Value]) != GuestPageAccess.Writable)
        {
            Fault(ppn, PageAccess.Write);
        }
        else
        {
            Hits++;
            LastFault = GuestFaultKind.None;
        }

        return new Mpn(_entries[ppn.Value] & MpnMask);
    }

    private void Fault(Ppn ppn, PageAccess access)
    {
        Faults++;
        var kind = Classify(ppn, access == PageAccess.Write, GuestFaultKind.Minor);
        _manager.HandleFault(_id, ppn, access);
        Record(kind);
        var now = AccessOf(_entries[ppn.Value]);
        if (now == GuestPageAccess.None || (access == PageAccess.Write && now != GuestPageAccess.Writable))
        {
            throw new InvalidOperationException($"{_id} {ppn}: Core resolved a {access} fault without mapping the page for it.");
        }
    }

    /// <summary>What Core will have to do for an access to <paramref name="ppn"/>, from its pmap state; <paramref name="resident"/> for a resident page.</summary>
    private GuestFaultKind Classify(Ppn ppn, bool write, GuestFaultKind resident) => _manager.PageInfoOf(_id, ppn).State switch
    {
        PageState.Untouched => GuestFaultKind.ZeroFill,
        PageState.Shared when write => GuestFaultKind.CopyOnWrite,
        PageState.Swapped => GuestFaultKind.HostSwapIn,
        PageState.Ballooned => GuestFaultKind.BalloonTouch,
        _ => resident,
    };

    private void Record(GuestFaultKind kind)
    {
        if (kind != GuestFaultKind.None)
        {
            _faultsByKind[(int)kind]++;
        }

        LastFault = kind;
    }

    private static GuestPageAccess AccessOf(uint entry) => (GuestPageAccess)(entry >> AccessShift);

    private static uint Entry(Mpn mpn, GuestPageAccess access) =>
        mpn.Value <= MpnMask
            ? mpn.Value | ((uint)access << AccessShift)
            : throw new ArgumentOutOfRangeException(nameof(mpn), $"{mpn} is beyond the {MpnMask + 1} machine pages a simulated mapping can address.");

    private void CheckPpn(Ppn ppn)
    {
        if (ppn.Value >= (uint)_entries.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(ppn), $"{_id}: {ppn} is beyond its {_entries.Length} pages.");
        }
    }
}
