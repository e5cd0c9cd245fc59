/*
 * The memory manager: one pmap per VM and the single place where guest page faults are resolved
 * (paper §2; the mechanisms of §3-§4 hang off it).
 *
 * Contract with a substrate (simulator or KVM). Core tells the substrate how each guest page is mapped
 * through IGuestMapping (writable, read-only, invalid). The substrate lets accesses that hit a mapping
 * proceed on its own and calls HandleFault only when an access misses its mapping or writes a
 * read-only page. HandleFault looks at the page's pmap state and resolves it in one place:
 *   untouched -> a fresh zeroed machine page;        shared + write -> copy-on-write break;
 *   swapped   -> swap-in (checksum verified);        ballooned -> a fresh zeroed page, counted;
 *   private / shared read -> remap (the mapping was invalidated to sample an access).
 * Every pmap change is paired with the matching IGuestMapping call, mapping before a machine page is
 * freed, so a substrate with concurrent guests (KVM) never lets a guest see a page that is reused.
 *
 * Single-threaded by contract: the KVM substrate serialises calls into Core.
 */
using Memvisor.Core.Ports;
using Memvisor.Core.Sharing;
using Memvisor.Core.Statistics;
using Memvisor.Core.Swap;
using Memvisor.Core.Util;

namespace Memvisor.Core.Memory;

/// <summary>The memory manager of one host.</summary>
public sealed partial class MemoryManager : IDisposable
{
    private const int MaxVms = ushort.MaxValue;
    private readonly List<VmState?> _vms = [];
    private readonly HostMemoryOptions _options;
    private readonly IPageHasher _hasher;
    private readonly DeterministicRandom _random;
    private HostCounters _counters;
    private long _powerOns;

    /// <summary>Creates the memory manager of a host whose machine memory is <paramref name="memory"/>.</summary>
    public MemoryManager(IMachineMemory memory, ISwapDevice swapDevice, HostMemoryOptions options)
    {
        ArgumentNullException.ThrowIfNull(memory);
        ArgumentNullException.ThrowIfNull(swapDevice);
        ArgumentNullException.ThrowIfNull(options);
        if (options.SwapBatchPages <= 0)
        {
            throw new ArgumentException($"Swap batch: {options.SwapBatchPages} pages; must be at least 1.", nameof(options));
        }

        _options = options;
        _hasher = options.Hasher;
        _random = new DeterministicRandom(options.Seed);
        Pool = new MachinePagePool(memory);
        ShareTable = new PageShareTable(Math.Max(1, memory.PageCount));
        Swap = new SwapSpace(swapDevice, options.SwapCapacityPages);
        _shareSource = new ShareSource(this);
        _swapStaging = new byte[options.SwapBatchPages * PageGeometry.PageSizeBytes];
        _swapVictims = new Ppn[options.SwapBatchPages];
        _swapSlots = new SwapSlot[options.SwapBatchPages];
    }

    /// <summary>The machine page pool.</summary>
    public MachinePagePool Pool { get; }

    /// <summary>The global page-sharing table.</summary>
    public PageShareTable ShareTable { get; }

    /// <summary>The host swap area.</summary>
    public SwapSpace Swap { get; }

    /// <summary>
    /// Chooses the VM to reclaim from when a fault finds no free machine page: given the faulting VM,
    /// returns a VM to swap pages out of, or null. The allocation policy replaces the default, which
    /// takes from the faulting VM itself if it can swap, else from the VM with the most private pages.
    /// </summary>
    public Func<VmId, VmId?>? ReclaimVictimChooser { get; set; }

    /// <summary>The host's counters, incremented in place (the swap area's and the share matcher's too, by reference).</summary>
    public ref readonly HostCounters Counters => ref _counters;

    /// <summary>Faults resolved, over all VMs.</summary>
    public long Faults { get; private set; }

    /// <summary>Pages for which the manager ran out of machine memory and had to reclaim synchronously.</summary>
    public long SynchronousReclaims { get; private set; }

    /// <summary>Powers a VM on: reserves swap for max - min and takes its overhead memory.</summary>
    /// <exception cref="AdmissionException">the swap area or machine memory cannot cover the VM.</exception>
    public VmId PowerOn(VmMemoryConfig config, IGuestMapping mapping)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(mapping);
        config.Validate();
        var index = _vms.IndexOf(null);
        if (index < 0)
        {
            if (_vms.Count >= MaxVms)
            {
                throw new AdmissionException($"VM '{config.Name}': the host runs {MaxVms} VMs already.");
            }

            index = _vms.Count;
            _vms.Add(null);
        }

        var id = new VmId((ushort)index);
        var swapNeeded = config.MaxPages - config.MinPages;
        if (!Swap.TryReserve(swapNeeded))
        {
            throw new AdmissionException(
                $"VM '{config.Name}': the swap area cannot cover max - min = {swapNeeded} pages; " +
                $"{Swap.CapacityPages - Swap.ReservedPages} of {Swap.CapacityPages} pages are unreserved, {swapNeeded - (Swap.CapacityPages - Swap.ReservedPages)} short.");
        }

        if (config.OverheadPages > Pool.FreePages)
        {
            Swap.Unreserve(swapNeeded);
            throw new AdmissionException(
                $"VM '{config.Name}': overhead memory of {config.OverheadPages} pages does not fit in {Pool.FreePages} free machine pages.");
        }

        var salt = config.ShareSalt ?? (_options.ShareSaltMode == ShareSaltMode.SingleSalt ? 0UL : 0x8000_0000_0000_0000UL | id.Value);
        var vm = new VmState(id, ++_powerOns, config, mapping, salt, _random.Fork(id.Value));
        for (var i = 0; i < config.OverheadPages; i++)
        {
            Pool.TryAllocate(id, new Ppn((uint)i), MpnUse.Overhead, out var mpn);
            vm.OverheadMpns[i] = mpn;
        }

        _vms[index] = vm;
        return id;
    }

    /// <summary>Powers a VM off: frees its machine pages, shared references, swap slots, overhead and reservation.</summary>
    public void PowerOff(VmId id)
    {
        var vm = Vm(id);
        for (var p = 0; p < vm.Pmap.Length; p++)
        {
            DropBacking(vm, new Ppn((uint)p), ref vm.Pmap[p], invalidate: false);
        }

        foreach (var mpn in vm.OverheadMpns)
        {
            Pool.Free(mpn);
        }

        Swap.Unreserve(vm.SwapReservedPages);
        _vms[id.Value] = null;
    }

    /// <summary>True when <paramref name="id"/> names a powered-on VM.</summary>
    public bool IsPoweredOn(VmId id) => id.Value < _vms.Count && _vms[id.Value] is not null;

    /// <summary>The powered-on VMs, in id order.</summary>
    public IEnumerable<VmId> PoweredOnVms
    {
        get
        {
            foreach (var vm in _vms)
            {
                if (vm is not null)
                {
                    yield return vm.Id;
                }
            }
        }
    }

    /// <summary>
    /// The number of <paramref name="id"/>'s power-on on this host (1, 2, ...). Ids are reused after a
    /// power-off; this number never is, so state a component keeps per VM outside the VM's own record
    /// (scan credit, say) is the VM's only while its incarnation matches.
    /// </summary>
    public long IncarnationOf(VmId id) => Vm(id).Incarnation;

    /// <summary>
    /// True while the VM that powered on as <paramref name="incarnation"/> is still on under
    /// <paramref name="id"/>: the one check every component keeping per-VM state by id makes, so that a
    /// VM given a powered-off VM's id inherits none of it.
    /// </summary>
    public bool IsCurrent(VmId id, long incarnation) =>
        id.Value < _vms.Count && _vms[id.Value] is { } vm && vm.Incarnation == incarnation;

    /// <summary>The configuration a VM was powered on with.</summary>
    public VmMemoryConfig ConfigOf(VmId id) => Vm(id).Config;

    /// <summary>A VM's private and shared page counts (cheap: counters, no walk).</summary>
    public (int PrivatePages, int SharedPages) ResidentPagesOf(VmId id)
    {
        var vm = Vm(id);
        return (vm.PrivatePages, vm.SharedPages);
    }

    /// <summary>A VM's pages held by its balloon (cheap).</summary>
    public int BalloonedPagesOf(VmId id) => Vm(id).BalloonedPages;

    /// <summary>A VM's pages in the host swap area (cheap).</summary>
    public int SwappedPagesOf(VmId id) => Vm(id).SwappedPages;

    /// <summary>The pmap entry of a guest page (for substrates, statistics and tests).</summary>
    public PageInfo PageInfoOf(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        var e = vm.Pmap[CheckPpn(vm, ppn)];
        return new PageInfo(e.State, e.IsResident ? e.Mpn : Mpn.None, e.Flags);
    }

    /// <summary>
    /// Resolves a guest access that missed its mapping or wrote a read-only page, and maps the page
    /// accordingly. Throws <see cref="SwapReadException"/> when a swapped page cannot be read back
    /// intact (the page stays swapped), <see cref="MachineMemoryExhaustedException"/> when no machine
    /// page can be reclaimed.
    /// </summary>
    public void HandleFault(VmId id, Ppn ppn, PageAccess access)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        Faults++;
        vm.Counters.Faults++;
        if ((e.Flags & PageMarks.Sampled) != 0)
        {
            // A page chosen by working-set sampling was touched (paper §5.3): count it once.
            e.Flags &= ~PageMarks.Sampled;
            vm.SampledPagesTouched++;
        }

        switch (e.State)
        {
            case PageState.Untouched:
            {
                var mpn = AllocatePage(vm, ppn);
                e.State = PageState.Private;
                e.Value = mpn.Value;
                e.Frame = PageShareTable.NoFrame;
                vm.PrivatePages++;
                vm.Mapping.MapWritable(ppn, mpn);
                break;
            }

            case PageState.Private:
                vm.Mapping.MapWritable(ppn, e.Mpn);
                break;

            case PageState.Shared:
                if (access == PageAccess.Write)
                {
                    BreakCopyOnWrite(vm, ppn, ref e);
                }
                else
                {
                    vm.Mapping.MapReadOnly(ppn, e.Mpn);
                }

                break;

            case PageState.Swapped:
                SwapIn(vm, ppn, ref e);
                break;

            case PageState.Ballooned:
            {
                // The guest touched a page its balloon driver gave up: it gets a fresh zero page, and we count it.
                var mpn = AllocatePage(vm, ppn);
                vm.BalloonedPages--;
                vm.Counters.BalloonedPageTouches++;
                e.State = PageState.Private;
                e.Value = mpn.Value;
                e.Frame = PageShareTable.NoFrame;
                vm.PrivatePages++;
                vm.Mapping.MapWritable(ppn, mpn);
                break;
            }

            default:
                throw new MemoryInconsistencyException($"{id} {ppn}: unknown page state {e.State}.");
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Swap.Dispose();

    private void BreakCopyOnWrite(VmState vm, Ppn ppn, ref PmapEntry e)
    {
        var frame = e.Frame;
        var sharedMpn = e.Mpn;
        Mpn privateMpn;
        if (ShareTable.RefCount(frame) == 1)
        {
            // The last sharer keeps the machine page: no copy.
            RemoveSharedFrame(frame);
            Pool.SetOwner(sharedMpn, MpnUse.Private, vm.Id, ppn.Value);
            privateMpn = sharedMpn;
        }
        else
        {
            // Synchronous reclaim inside AllocatePage only swaps private pages and only adds references
            // to shared frames, so this page and its frame are as they were when it returns.
            privateMpn = AllocatePage(vm, ppn);
            Pool.Page(sharedMpn).CopyTo(Pool.Page(privateMpn));
            ShareTable.SetRefCount(frame, ShareTable.RefCount(frame) - 1);
        }

        vm.Counters.CowBreaks++;
        _counters.CowBreaks++;
        vm.SharedPages--;
        if ((e.Flags & PageMarks.Zero) != 0)
        {
            vm.ZeroPages--;
        }

        e.Flags &= ~PageMarks.Zero;
        e.State = PageState.Private;
        e.Value = privateMpn.Value;
        e.Frame = PageShareTable.NoFrame;
        vm.PrivatePages++;
        vm.Mapping.MapWritable(ppn, privateMpn);
    }

    private void SwapIn(VmState vm, Ppn ppn, ref PmapEntry e)
    {
        var slot = new SwapSlot(e.Value);
        var mpn = AllocatePage(vm, ppn);
        try
        {
            Swap.Read(slot, Pool.Page(mpn), vm.Id, ppn, ref _counters);
        }
        catch (SwapReadException)
        {
            Pool.Free(mpn);
            throw;
        }

        Swap.Free(slot);
        vm.SwappedPages--;
        vm.Counters.SwapIns++;
        e.State = PageState.Private;
        e.Value = mpn.Value;
        e.Frame = PageShareTable.NoFrame;
        vm.PrivatePages++;
        vm.Mapping.MapWritable(ppn, mpn);
    }

    /// <summary>A zeroed machine page for (vm, ppn), reclaiming synchronously when the pool is empty.</summary>
    private Mpn AllocatePage(VmState vm, Ppn ppn)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (Pool.TryAllocate(vm.Id, ppn, MpnUse.Private, out var mpn))
            {
                return mpn;
            }

            SynchronousReclaims++;
            var victim = ReclaimVictimChooser?.Invoke(vm.Id) ?? DefaultReclaimVictim(vm);
            var freed = victim is { } v && IsPoweredOn(v) ? SwapOut(v, 16).PagesFreed : 0;
            if (freed == 0 && ReclaimVictimChooser is not null && DefaultReclaimVictim(vm) is { } fallback)
            {
                // The policy's choice could give nothing (at its min, say): take from any VM that can.
                freed = SwapOut(fallback, 16).PagesFreed;
            }
            if (freed == 0 || attempt > 64)
            {
                throw new MachineMemoryExhaustedException(
                    $"{vm.Id} ('{vm.Config.Name}') {ppn}: no free machine page, and none could be reclaimed " +
                    $"({Pool.TotalPages} pages, swap {Swap.UsedPages} of {Swap.CapacityPages} slots used).");
            }
        }
    }

    private VmId? DefaultReclaimVictim(VmState faulting)
    {
        if (CanSwap(faulting))
        {
            return faulting.Id;
        }

        VmState? best = null;
        foreach (var vm in _vms)
        {
            if (vm is not null && CanSwap(vm) && (best is null || vm.PrivatePages > best.PrivatePages))
            {
                best = vm;
            }
        }

        return best?.Id;
    }

    private static bool CanSwap(VmState vm) => vm.PrivatePages > 0 && vm.SwappedPages + vm.BalloonedPages < vm.SwapReservedPages;

    /// <summary>Releases whatever backs a page (machine page, shared reference, swap slot, hint) and leaves it untouched.</summary>
    private void DropBacking(VmState vm, Ppn ppn, ref PmapEntry e, bool invalidate)
    {
        switch (e.State)
        {
            case PageState.Private:
                if (invalidate)
                {
                    vm.Mapping.Invalidate(ppn);
                }

                DropHint(ref e);
                Pool.Free(e.Mpn);
                vm.PrivatePages--;
                break;
            case PageState.Shared:
                if (invalidate)
                {
                    vm.Mapping.Invalidate(ppn);
                }

                ReleaseSharedReference(vm, ref e);
                break;
            case PageState.Swapped:
                Swap.Free(new SwapSlot(e.Value));
                vm.SwappedPages--;
                break;
            case PageState.Ballooned:
                vm.BalloonedPages--;
                break;
        }

        var sampled = e.Flags & PageMarks.Sampled;
        e = PmapEntry.Untouched;
        e.Flags = sampled;
    }

    /// <summary>
    /// Arms a sampling trap on a guest page (paper §5.3): its mapping is invalidated so that the next
    /// guest access faults into Core, which counts it once and maps the page again. The mark survives
    /// sharing, swapping and ballooning of the page. False when a trap is already armed.
    /// </summary>
    public bool ArmSampleTrap(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        if ((e.Flags & PageMarks.Sampled) != 0)
        {
            return false;
        }

        e.Flags |= PageMarks.Sampled;
        if (e.IsResident)
        {
            vm.Mapping.Invalidate(ppn);
        }

        return true;
    }

    /// <summary>Disarms a sampling trap and reports whether the page was touched since it was armed.</summary>
    /// <returns>True when the guest touched the page (the trap fired), false when it is still armed.</returns>
    public bool DisarmSampleTrap(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        ref var e = ref vm.Pmap[CheckPpn(vm, ppn)];
        if ((e.Flags & PageMarks.Sampled) == 0)
        {
            return true;
        }

        e.Flags &= ~PageMarks.Sampled;
        Remap(vm, ppn, in e);
        return false;
    }

    /// <summary>True while the sampling trap on the page has not fired.</summary>
    public bool IsSampleTrapArmed(VmId id, Ppn ppn)
    {
        var vm = Vm(id);
        return (vm.Pmap[CheckPpn(vm, ppn)].Flags & PageMarks.Sampled) != 0;
    }

    /// <summary>Maps a resident page as its state allows (private writable, shared read-only), unless a sampling trap keeps it unmapped.</summary>
    private static void Remap(VmState vm, Ppn ppn, in PmapEntry e)
    {
        if ((e.Flags & PageMarks.Sampled) != 0)
        {
            return;
        }

        if (e.State == PageState.Private)
        {
            vm.Mapping.MapWritable(ppn, e.Mpn);
        }
        else if (e.State == PageState.Shared)
        {
            vm.Mapping.MapReadOnly(ppn, e.Mpn);
        }
    }

    /// <summary>Write-protects a resident page (for a comparison), unless a sampling trap already keeps it unmapped.</summary>
    private static void Protect(VmState vm, Ppn ppn, in PmapEntry e)
    {
        if ((e.Flags & PageMarks.Sampled) == 0)
        {
            vm.Mapping.MapReadOnly(ppn, e.Mpn);
        }
    }

    private void ReleaseSharedReference(VmState vm, ref PmapEntry e)
    {
        var refs = ShareTable.RefCount(e.Frame) - 1;
        if (refs == 0)
        {
            RemoveSharedFrame(e.Frame);
            Pool.Free(e.Mpn);
        }
        else
        {
            ShareTable.SetRefCount(e.Frame, refs);
        }

        vm.SharedPages--;
        if ((e.Flags & PageMarks.Zero) != 0)
        {
            vm.ZeroPages--;
        }
    }

    private void DropHint(ref PmapEntry e)
    {
        if (e.Frame != PageShareTable.NoFrame)
        {
            ShareTable.Remove(e.Frame);
            e.Frame = PageShareTable.NoFrame;
        }
    }

    private VmState Vm(VmId id) =>
        id.Value < _vms.Count && _vms[id.Value] is { } vm ? vm : throw new ArgumentException($"{id} is not powered on.", nameof(id));

    private static int CheckPpn(VmState vm, Ppn ppn) =>
        ppn.Value < (uint)vm.Pmap.Length
            ? (int)ppn.Value
            : throw new ArgumentOutOfRangeException(nameof(ppn), $"{vm.Id} ('{vm.Config.Name}'): {ppn} is beyond its {vm.Pmap.Length} pages.");
}
