/*
 * Demand paging in the memory manager (paper §3.3).
 *
 * SwapOut(vm, count) takes victims at random among the VM's private pages (a random choice does not
 * fight the guest's own replacement policy). Each victim is first offered to page sharing: if its
 * contents already exist in the table, sharing frees its machine page with no I/O. The rest of a batch
 * is unmapped, copied into one staging buffer and written with one I/O per run of consecutive slots.
 * Only after the write succeeded are the machine pages freed; if it fails (disk full, I/O error) every
 * page of the batch is mapped back as it was and the error is reported. A VM never has more pages
 * swapped than the max - min reserved for it at power-on: its min is guaranteed resident.
 */
using Memvisor.Core.Swap;

namespace Memvisor.Core.Memory;

/// <summary>What <see cref="MemoryManager.SwapOut"/> achieved.</summary>
public readonly record struct SwapOutResult(int Requested, int SwappedOut, int SharedInstead, string? Error)
{
    /// <summary>Machine pages freed (swapped or shared).</summary>
    public int PagesFreed => SwappedOut + SharedInstead;
}

public sealed partial class MemoryManager
{
    private readonly byte[] _swapStaging;
    private readonly Ppn[] _swapVictims;
    private readonly SwapSlot[] _swapSlots;

    /// <summary>Pages freed by sharing when they were chosen as swap victims.</summary>
    public long SharedBeforeSwap { get; private set; }

    /// <summary>
    /// Reclaims up to <paramref name="count"/> machine pages from <paramref name="id"/> by host paging:
    /// random private victims, shared instead of written where their contents already exist. Stops
    /// early when the VM has no private page left, its swap reservation is used up, the swap area is
    /// full, or a write fails (<see cref="SwapOutResult.Error"/> says which; failed pages stay resident).
    /// </summary>
    public SwapOutResult SwapOut(VmId id, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var vm = Vm(id);
        var swapped = 0;
        var shared = 0;
        string? error = null;
        while (swapped + shared < count && error is null)
        {
            var n = 0;
            while (n < _swapVictims.Length && swapped + shared + n < count)
            {
                if (vm.SwappedPages + vm.BalloonedPages + n >= vm.SwapReservedPages)
                {
                    error = $"{id} ('{vm.Config.Name}') has {vm.SwappedPages + n} pages swapped and {vm.BalloonedPages} ballooned, all it may lose above its min (its swap reservation, max - min = {vm.SwapReservedPages} pages).";
                    break;
                }

                if (!TryPickVictim(vm, out var ppn))
                {
                    error = $"{id} ('{vm.Config.Name}') has no private page left to swap.";
                    break;
                }

                ref var e = ref vm.Pmap[ppn.Value];
                if (SharePrivatePage(vm, ppn, ref e, addHintOnMiss: false))
                {
                    shared++;
                    SharedBeforeSwap++;
                    vm.SharedBeforeSwap++;
                    continue;
                }

                e.Flags |= PageMarks.SwapPending;
                _swapVictims[n++] = ppn;
            }

            if (n > 0)
            {
                swapped += WriteVictims(vm, n, ref error);
            }
        }

        return new SwapOutResult(count, swapped, shared, error);
    }

    private int WriteVictims(VmState vm, int n, ref string? error)
    {
        var staging = _swapStaging.AsSpan(0, n * PageGeometry.PageSizeBytes);
        for (var i = 0; i < n; i++)
        {
            var ppn = _swapVictims[i];
            var mpn = vm.Pmap[ppn.Value].Mpn;
            vm.Mapping.Invalidate(ppn);
            Pool.Page(mpn).CopyTo(staging.Slice(i * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes));
        }

        var slots = _swapSlots.AsSpan(0, n);
        var got = Swap.Allocate(slots);
        if (got < n)
        {
            error = $"The swap area {Swap.DeviceName} is full ({Swap.UsedPages} of {Swap.CapacityPages} slots).";
            Restore(vm, got, n);
            n = got;
            slots = slots[..n];
            staging = staging[..(n * PageGeometry.PageSizeBytes)];
        }

        if (n == 0)
        {
            return 0;
        }

        try
        {
            Swap.Write(slots, staging);
        }
        catch (SwapWriteException e)
        {
            error = e.Message;
            foreach (var slot in slots)
            {
                Swap.Free(slot);
            }

            Restore(vm, 0, n);
            return 0;
        }

        for (var i = 0; i < n; i++)
        {
            var ppn = _swapVictims[i];
            ref var e = ref vm.Pmap[ppn.Value];
            var mpn = e.Mpn;
            DropHint(ref e);
            e.State = PageState.Swapped;
            e.Value = slots[i].Value;
            e.Flags &= PageMarks.Sampled;
            vm.PrivatePages--;
            vm.SwappedPages++;
            vm.SwapOuts++;
            Pool.Free(mpn);
        }

        return n;
    }

    /// <summary>Maps victims [from, to) back as they were: their write did not happen.</summary>
    private void Restore(VmState vm, int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var ppn = _swapVictims[i];
            ref var e = ref vm.Pmap[ppn.Value];
            e.Flags &= ~PageMarks.SwapPending;
            Remap(vm, ppn, in e);
        }
    }

    /// <summary>A random private page not already chosen; a few random probes, then a sweep from a random start.</summary>
    private static bool TryPickVictim(VmState vm, out Ppn ppn)
    {
        var pages = (uint)vm.Pmap.Length;
        for (var probe = 0; probe < 16; probe++)
        {
            var p = vm.Random.NextUInt32(pages);
            if (IsVictimCandidate(vm.Pmap[p]))
            {
                ppn = new Ppn(p);
                return true;
            }
        }

        var start = vm.Random.NextUInt32(pages);
        for (var k = 0u; k < pages; k++)
        {
            var p = (start + k) % pages;
            if (IsVictimCandidate(vm.Pmap[p]))
            {
                ppn = new Ppn(p);
                return true;
            }
        }

        ppn = default;
        return false;
    }

    private static bool IsVictimCandidate(in PmapEntry e) => e.State == PageState.Private && (e.Flags & PageMarks.SwapPending) == 0;
}
