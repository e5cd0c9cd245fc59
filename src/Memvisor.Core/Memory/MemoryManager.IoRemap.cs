/*
 * Hot I/O page remapping in the memory manager (paper §7).
 *
 * Problem. Many DMA devices address only low memory (below 4 GiB), while guest pages are placed in
 * high memory first, so I/O to most guest pages is copied through a low bounce buffer. ESX counts the
 * copies per page and remaps a page that passes a threshold to a low machine page, invisibly to the
 * guest; when low memory runs short, pages move back to high memory.
 *
 * The I/O path. DmaTransfer(vm, ppn, direction, offset, data) is a device that can address only low
 * memory doing DMA to or from one guest page:
 *  - the device needs the page: an untouched, swapped or ballooned page (or a shared page that a
 *    receive will write) is faulted in through HandleFault, as a guest access would be. A DMA is not a
 *    guest access, so an armed working-set sampling trap stays armed and is not counted;
 *  - a low page is read or written by the device directly: no copy;
 *  - for a high page a low bounce page is taken from the pool for the transfer: a transmit copies the
 *    guest's bytes into it and the device reads them there; a receive lets the device write it and
 *    copies the bytes into the guest page. The copy is counted against the page. If no low page is
 *    free, cold low pages are moved to high memory (reclaiming memory first if the host has none);
 *  - when a page's copies reach the threshold it is remapped: a low page is allocated, the contents
 *    copied while the guest mapping is write-protected, the pmap entry and the guest mapping moved to
 *    the new page, and only then the high page freed. A hot shared page is first given a private copy
 *    (a copy-on-write break done early, counted as one): moving the shared frame instead would need a
 *    walk of every pmap to find its sharers, since the share table keeps no back pointers, and would
 *    change every sharer's mapping. The price is one page of sharing savings per hot shared page.
 *
 * Low memory. A remap never takes free low memory below the reserve. When free low memory is below it
 * (BalanceLowMemory, called periodically; or a remap that needs room), a clock hand sweeps low memory:
 * a private guest page whose I/O count is zero moves to high memory, one with a count has it halved
 * and is passed over (a second chance), until free low memory is back at the reserve plus a batch or
 * one revolution is done. Overhead pages and shared frames in low memory stay where they are (a shared
 * frame would need the pmap walk again).
 *
 * Counters. A VM's first transfer (or the first demotion of one of its pages) gives it a 16-bit word per guest page (VmIoState): transfers since
 * the last halving (saturating at 32,767) and a mark for pages remapped low, which tells a copy avoided
 * from a page that merely happens to be low. DecayIoCounts halves every count (call it periodically),
 * so a page must be hot recently to be remapped. Cost: 2 bytes per guest page of a VM that does I/O,
 * 1/2048 of its memory; a dictionary of hot pages would be smaller for VMs with little I/O, but costs
 * some 24 bytes and possibly an allocation per page on the hot path.
 */
using Memvisor.Core.IoRemap;
using Memvisor.Core.Swap;

namespace Memvisor.Core.Memory;

public sealed partial class MemoryManager
{
    private const int MaxBounceAttempts = 4;
    private readonly IoEventCounts _ioHostEvents = new();
    private IoRemapOptions? _ioOptions;
    private int _demotionHand;

    /// <summary>The hot I/O remapping settings in force; null until configured or until the first DMA transfer applies the defaults.</summary>
    public IoRemapOptions? IoRemapSettings => _ioOptions;

    /// <summary>
    /// Sets the DMA boundary, remap threshold, low-memory reserve and guest placement. Call it before
    /// powering VMs on, so that their pages are placed as the options say from the first page; without
    /// it, the first DMA transfer applies the defaults. May be called again to change the settings.
    /// </summary>
    public void ConfigureIoRemap(IoRemapOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _ioOptions = options;
        Pool.SetZones(options.DmaBoundaryPages, options.GuestPlacement);
        _demotionHand = 0;
    }

    /// <summary>
    /// A device that can address only low memory moves <paramref name="data"/> to (receive) or from
    /// (transmit) bytes [<paramref name="offset"/>, offset + data.Length) of guest page
    /// <paramref name="ppn"/>: directly when the page is in low memory, through a low bounce page when
    /// it is in high memory. A page that is not resident is faulted in first. A page whose bounce
    /// copies reach the threshold is remapped to low memory. Throws
    /// <see cref="MachineMemoryExhaustedException"/> when no low page can be found for a bounce
    /// buffer (no memory can be reclaimed, or low memory holds no private guest page to move), and
    /// <see cref="SwapReadException"/> when a swapped page cannot be read back: the transfer then does
    /// not happen and no data is lost (pages may have been faulted in or reclaimed on the way).
    /// </summary>
    public DmaPath DmaTransfer(VmId id, Ppn ppn, IoDirection direction, int offset, Span<byte> data)
    {
        var options = _ioOptions ?? ApplyDefaultIoRemap();
        var vm = Vm(id);
        var index = CheckPpn(vm, ppn);
        if (direction is not (IoDirection.Transmit or IoDirection.Receive))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "A transfer is a transmit or a receive.");
        }

        if (offset < 0 || offset > PageGeometry.PageSizeBytes - data.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset,
                $"{id} {ppn}: a transfer of {data.Length} bytes at offset {offset} does not fit in a page of {PageGeometry.PageSizeBytes} bytes.");
        }

        var io = IoStateOf(vm);
        ref var e = ref vm.Pmap[index];
        ref var word = ref io.Counts[index];
        var access = direction == IoDirection.Receive ? PageAccess.Write : PageAccess.Read;
        Mpn bounce;
        for (var attempt = 0; ; attempt++)
        {
            if (!e.IsResident || (access == PageAccess.Write && e.State == PageState.Shared))
            {
                FaultInForDevice(vm, ppn, ref e, access);
                CountIo(io, IoEvent.DeviceFault);
                word &= VmIoState.CountMask; // placed by the fault, not by a remap
            }

            if (Pool.IsLow(e.Mpn))
            {
                DeviceAccess(e.Mpn, offset, data, direction);
                CountIo(io, IoEvent.Transfer);
                CountIo(io, IoEvent.Direct);
                if ((word & VmIoState.RemappedMark) != 0)
                {
                    CountIo(io, IoEvent.CopyAvoided);
                }

                word = VmIoState.Bump(word);
                return DmaPath.Direct;
            }

            if (Pool.TryAllocate(id, ppn, MpnUse.Overhead, out bounce, 0, Pool.LowZonePages))
            {
                break;
            }

            if (attempt == MaxBounceAttempts)
            {
                throw new MachineMemoryExhaustedException(
                    $"{id} ('{vm.Config.Name}') {ppn}: no low page for a bounce buffer after {attempt} attempts to make room ({Pool.LowZonePages} low pages, {Pool.FreePages} pages free).");
            }

            // Making room may reclaim pages of any VM, this one included: the loop looks at the page again.
            // A first attempt moves only cold pages; later ones any private page, so that I/O goes on.
            MakeRoomInLowMemory(vm, ppn, anyPrivatePage: attempt > 0);
        }

        var guest = Pool.Page(e.Mpn).Slice(offset, data.Length);
        var buffer = Pool.Page(bounce).Slice(offset, data.Length);
        if (direction == IoDirection.Transmit)
        {
            guest.CopyTo(buffer);
            DeviceAccess(bounce, offset, data, direction);
        }
        else
        {
            DeviceAccess(bounce, offset, data, direction);
            buffer.CopyTo(guest);
        }

        Pool.Free(bounce);
        CountIo(io, IoEvent.Transfer);
        CountIo(io, IoEvent.BounceCopy);
        word = VmIoState.Bump((ushort)(word & VmIoState.CountMask));
        if (options.RemapHotPages && (word & VmIoState.CountMask) >= options.RemapThresholdCopies)
        {
            RemapLow(vm, io, ppn, ref e, ref word);
        }

        return DmaPath.Bounced;
    }

    /// <summary>
    /// When free low memory is below the reserve, moves cold low guest pages (no I/O since the clock
    /// hand last passed) to high memory until free low memory is back at the reserve plus a batch.
    /// Call it periodically (e.g. every balance period). Returns the pages moved.
    /// </summary>
    public int BalanceLowMemory()
    {
        var options = _ioOptions ?? ApplyDefaultIoRemap();
        return Pool.FreeLowPages < options.LowReservePages ? DemoteColdLowPages(options.LowReservePages + options.DemotionBatchPages, anyPrivatePage: false) : 0;
    }

    /// <summary>Halves every page's I/O count (call it periodically), so that only recently hot pages are remapped.</summary>
    public void DecayIoCounts()
    {
        foreach (var vm in _vms)
        {
            if (vm?.Io is not { } io)
            {
                continue;
            }

            var counts = io.Counts;
            for (var p = 0; p < counts.Length; p++)
            {
                counts[p] = VmIoState.Halve(counts[p]);
            }
        }
    }

    /// <summary>Transfers since the page's count was last halved (0 for a VM that has done no I/O).</summary>
    public int IoCountOf(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        var index = CheckPpn(vm, ppn);
        return PeekIoState(vm) is { } io ? io.Counts[index] & VmIoState.CountMask : 0;
    }

    /// <summary>One VM's hot I/O remapping counters.</summary>
    public IoRemapStats GetIoRemapStats(VmId id) => (PeekIoState(Vm(id))?.Events ?? new IoEventCounts()).Snapshot();

    /// <summary>The host's zones and hot I/O remapping counters.</summary>
    public IoRemapHostStats GetIoRemapHostStats()
    {
        long counterBytes = 0;
        foreach (var vm in _vms)
        {
            if (vm?.Io is { } io)
            {
                counterBytes += io.Counts.Length * (long)sizeof(ushort);
            }
        }

        return new IoRemapHostStats
        {
            LowZonePages = Pool.LowZonePages,
            HighZonePages = Pool.TotalPages - Pool.LowZonePages,
            FreeLowPages = Pool.FreeLowPages,
            FreeHighPages = Pool.FreePages - Pool.FreeLowPages,
            LowReservePages = _ioOptions?.LowReservePages ?? 0,
            CounterBytes = counterBytes,
            Totals = _ioHostEvents.Snapshot(),
        };
    }

    private IoRemapOptions ApplyDefaultIoRemap()
    {
        ConfigureIoRemap(new IoRemapOptions());
        return _ioOptions!;
    }

    /// <summary>The device side of a transfer: it can only address a low machine page.</summary>
    private void DeviceAccess(Mpn mpn, int offset, Span<byte> data, IoDirection direction)
    {
        if (!Pool.IsLow(mpn))
        {
            throw new MemoryInconsistencyException($"DMA to {mpn}, above the DMA boundary ({Pool.LowZonePages} pages): the device cannot address it.");
        }

        var page = Pool.Page(mpn).Slice(offset, data.Length);
        if (direction == IoDirection.Transmit)
        {
            page.CopyTo(data);
        }
        else
        {
            data.CopyTo(page);
        }
    }

    /// <summary>Faults a page in for a device through the normal fault path; an armed sampling trap stays armed (a DMA is not a guest access).</summary>
    private void FaultInForDevice(VmState vm, Ppn ppn, ref PmapEntry e, PageAccess access)
    {
        var armed = SuspendSampleTrap(ref e);
        try
        {
            HandleFault(vm.Id, ppn, access);
        }
        finally
        {
            ResumeSampleTrap(vm, ppn, ref e, armed);
        }
    }

    private static bool SuspendSampleTrap(ref PmapEntry e)
    {
        var armed = (e.Flags & PageMarks.Sampled) != 0;
        e.Flags &= ~PageMarks.Sampled;
        return armed;
    }

    private static void ResumeSampleTrap(VmState vm, Ppn ppn, ref PmapEntry e, bool armed)
    {
        if (armed)
        {
            e.Flags |= PageMarks.Sampled;
            vm.Mapping.Invalidate(ppn);
        }
    }

    /// <summary>Moves a page whose bounce copies reached the threshold to low memory, unless that would take low memory below the reserve.</summary>
    private void RemapLow(VmState vm, VmIoState io, Ppn ppn, ref PmapEntry e, ref ushort word)
    {
        var options = _ioOptions!;
        if (Pool.FreeLowPages <= options.LowReservePages)
        {
            DemoteColdLowPages(options.LowReservePages + Math.Max(1, options.DemotionBatchPages), anyPrivatePage: false);
        }

        if (Pool.FreeLowPages <= options.LowReservePages)
        {
            // No room: try again after half a threshold more copies, not on every transfer.
            CountIo(io, IoEvent.RemapDeferred);
            word = (ushort)(options.RemapThresholdCopies / 2);
            return;
        }

        if (e.State == PageState.Shared)
        {
            var armed = SuspendSampleTrap(ref e);
            BreakCopyOnWrite(vm, ppn, ref e);
            ResumeSampleTrap(vm, ppn, ref e, armed);
            CountIo(io, IoEvent.SharedUnshared);
        }

        // Above the reserve a low page is free, so this only fails if the copy-on-write break took the last one.
        if (!Pool.IsLow(e.Mpn))
        {
            if (!Pool.TryAllocate(vm.Id, ppn, MpnUse.Private, out var low, 0, Pool.LowZonePages))
            {
                CountIo(io, IoEvent.RemapDeferred);
                return;
            }

            MovePage(vm, ppn, ref e, low);
        }

        word |= VmIoState.RemappedMark;
        CountIo(io, IoEvent.Remap);
    }

    /// <summary>
    /// Sweeps the clock hand over low memory until <paramref name="wantFreeLow"/> low pages are free or
    /// one revolution is done: private guest pages with no I/O since the hand last passed move to high
    /// memory; the others have their count halved (or, with <paramref name="anyPrivatePage"/>, move
    /// too: the last resort for a bounce buffer). Returns the pages moved.
    /// </summary>
    private int DemoteColdLowPages(int wantFreeLow, bool anyPrivatePage)
    {
        var low = Pool.LowZonePages;
        if (low == Pool.TotalPages)
        {
            return 0; // no high memory to move pages to
        }

        var moved = 0;
        for (var visited = 0; visited < low && Pool.FreeLowPages < wantFreeLow; visited++)
        {
            if (_demotionHand >= low)
            {
                _demotionHand = 0;
            }

            var mpn = new Mpn((uint)_demotionHand++);
            var owner = Pool.OwnerOf(mpn);
            if (owner.Use != MpnUse.Private)
            {
                continue; // free, overhead, a bounce buffer, or a shared frame
            }

            var vm = _vms[owner.Vm.Value]!;
            var io = PeekIoState(vm);
            if (!anyPrivatePage && io is not null && (io.Counts[owner.Value] & VmIoState.CountMask) != 0)
            {
                io.Counts[owner.Value] = VmIoState.Halve(io.Counts[owner.Value]);
                continue;
            }

            if (!Pool.TryAllocate(owner.Vm, owner.Ppn, MpnUse.Private, out var high, low))
            {
                break; // high memory is full as well
            }

            MovePage(vm, owner.Ppn, ref vm.Pmap[owner.Value], high);
            io ??= IoStateOf(vm);
            io.Counts[owner.Value] = 0;
            CountIo(io, IoEvent.Demotion);
            moved++;
        }

        return moved;
    }

    /// <summary>Frees a low page for a bounce buffer: reclaims memory like a fault would if none is free, then moves a low page to high memory.</summary>
    private void MakeRoomInLowMemory(VmState vm, Ppn ppn, bool anyPrivatePage)
    {
        if (Pool.FreePages == 0)
        {
            Pool.Free(AllocatePage(vm, ppn));
        }

        if (Pool.FreeLowPages == 0)
        {
            DemoteColdLowPages(1, anyPrivatePage);
        }
    }

    /// <summary>
    /// Moves a private page to machine page <paramref name="to"/> (already owned by it), contents
    /// preserved: write-protected while the bytes are copied, mapped to the new page before the old one
    /// is freed. A hint stays valid (it names the VM and PPN, not the machine page).
    /// </summary>
    private void MovePage(VmState vm, Ppn ppn, ref PmapEntry e, Mpn to)
    {
        var from = e.Mpn;
        Protect(vm, ppn, in e);
        Pool.Page(from).CopyTo(Pool.Page(to));
        e.Value = to.Value;
        Remap(vm, ppn, in e);
        Pool.Free(from);
    }

    /// <summary>The VM's I/O state, made at its first I/O; it hangs off the VM's state and dies with it at power-off.</summary>
    private static VmIoState IoStateOf(VmState vm) => vm.Io ??= new VmIoState(vm);

    /// <summary>The VM's I/O state, or null if it has done no I/O.</summary>
    private static VmIoState? PeekIoState(VmState vm) => vm.Io;

    private void CountIo(VmIoState io, IoEvent e)
    {
        io.Events.Add(e);
        _ioHostEvents.Add(e);
    }
}
