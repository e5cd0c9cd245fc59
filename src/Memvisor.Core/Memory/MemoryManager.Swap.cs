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

/// <summary>Why <see cref="MemoryManager.SwapOut"/> stopped.</summary>
public enum SwapOutStop
{
    /// <summary>It freed as many pages as requested.</summary>
    Done,

    /// <summary>The VM has max - min pages swapped or ballooned, all of its reservation: its min stays resident.</summary>
    ReservationUsed,

    /// <summary>The VM has no private page left to swap.</summary>
    NoPrivatePage,

    /// <summary>The swap area has no free slot.</summary>
    SwapFull,

    /// <summary>A write to the swap device failed; the batch stayed resident (<see cref="SwapOutResult.WriteError"/>).</summary>
    WriteFailed,
}

/// <summary>What <see cref="MemoryManager.SwapOut"/> achieved, and why it stopped (a sentence is the caller's to make).</summary>
/// <param name="Requested">Pages asked for.</param>
/// <param name="SwappedOut">Pages written to swap.</param>
/// <param name="SharedInstead">Victims freed by sharing instead of a write.</param>
/// <param name="Stop">Why it stopped.</param>
/// <param name="WriteError">The device's error when <paramref name="Stop"/> is <see cref="SwapOutStop.WriteFailed"/>.</param>
public readonly record struct SwapOutResult(int Requested, int SwappedOut, int SharedInstead, SwapOutStop Stop, SwapWriteException? WriteError = null)
{
    /// <summary>Machine pages freed (swapped or shared).</summary>
    public int PagesFreed => SwappedOut + SharedInstead;
}

public sealed partial class MemoryManager
{
    private readonly byte[] _swapStaging;
    private readonly Ppn[] _swapVictims;
    private readonly SwapSlot[] _swapSlots;

    /// <summary>
    /// Reclaims up to <paramref name="count"/> machine pages from <paramref name="id"/> by host paging:
    /// random private victims, shared instead of written where their contents already exist. Stops
    /// early when the VM has no private page left, its swap reservation is used up, the swap area is
    /// full, or a write fails (<see cref="SwapOutResult.Stop"/> says which; failed pages stay resident).
    /// </summary>
    public SwapOutResult SwapOut(VmId id, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var vm = Vm(id);
        var swapped = 0;
        var shared = 0;
        var stop = SwapOutStop.Done;
        SwapWriteException? writeError = null;
        while (swapped + shared < count && stop == SwapOutStop.Done)
        {
            var n = 0;
            while (n < _swapVictims.Length && swapped + shared + n < count)
            {
                if (vm.SwappedPages + vm.BalloonedPages + n >= vm.SwapReservedPages)
                {
                    stop = SwapOutStop.ReservationUsed;
                    break;
                }

                if (!TryPickVictim(vm, out var ppn))
                {
                    stop = SwapOutStop.NoPrivatePage;
                    break;
                }

                ref var e = ref vm.Pmap[ppn.Value];
                if (SharePrivatePage(vm, ppn, ref e, addHintOnMiss: false))
                {
                    shared++;
                    _counters.SharedBeforeSwap++;
                    vm.Counters.SharedBeforeSwap++;
                    continue;
                }

                e.Flags |= PageMarks.SwapPending;
                _swapVictims[n++] = ppn;
            }

            if (n > 0)
            {
                swapped += WriteVictims(vm, n, ref stop, ref writeError);
            }
        }

        return new SwapOutResult(count, swapped, shared, stop, writeError);
    }

    private int WriteVictims(VmState vm, int n, ref SwapOutStop stop, ref SwapWriteException? writeError)
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
            stop = SwapOutStop.SwapFull;
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
            Swap.Write(slots, staging, ref _counters);
        }
        catch (SwapWriteException e)
        {
            stop = SwapOutStop.WriteFailed;
            writeError = e;
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
            vm.Counters.SwapOuts++;
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
