/*
 * Machine memory management: the free-page pool and the owner of every machine page (paper §2).
 *
 * Problem. Every machine page (MPN) is at any time free, backing one VM's private guest page, backing
 * a shared (copy-on-write) page of the share table, or held as a VM's overhead memory (pmap, frame
 * buffer, shadow page tables). The pool hands out zeroed pages (no data leaks between VMs), lets the
 * substrate choose where a page lives, and knows each page's owner so that policies that move pages
 * (hot I/O remapping) and the consistency checker can go from an MPN back to its user.
 *
 * Data structures. A bitmap of pages in use (one bit per MPN, 0 = free) searched from a roving cursor,
 * and an owner word per MPN: kind (2 bits) | VM (16 bits) | PPN or frame index (32 bits). Both cover
 * only MPNs below a high-water mark, the end of the highest page ever allocated rounded up, and grow
 * (doubling) as it rises: every page above it is free and unowned. So a host with a terabyte of
 * machine memory and one small VM pays for what the allocator has reached, not for the terabyte
 * (the allocator is next-fit, so the mark follows the pages handed out, not the pages in use).
 *
 * Zones (paper §7). Machine memory may be split at a DMA boundary into a low zone [0, LowZonePages),
 * which every device can address, and a high zone above it. The pool counts free low pages and keeps
 * one roving cursor per zone; with HighFirst, a request that spans both zones is served from high
 * memory first, so that low memory stays free for I/O (bounce buffers, hot pages remapped low).
 */
using System.Numerics;
using Memvisor.Core.Ports;

namespace Memvisor.Core.Memory;

/// <summary>What a machine page is used for.</summary>
public enum MpnUse : byte
{
    /// <summary>In the free pool.</summary>
    Free = 0,

    /// <summary>Backs one VM's private guest page (Owner VM, PPN).</summary>
    Private = 1,

    /// <summary>Backs a shared frame of the share table (frame index).</summary>
    Shared = 2,

    /// <summary>Held as a VM's overhead memory.</summary>
    Overhead = 3,
}

/// <summary>Which zone a request that may use any machine page is served from first.</summary>
public enum ZonePreference : byte
{
    /// <summary>No preference: one roving cursor over all of memory (low pages are as good as high ones).</summary>
    Anywhere = 0,

    /// <summary>High memory first, low (DMA-able) memory only when high memory is full.</summary>
    HighFirst = 1,
}

/// <summary>The owner of a machine page.</summary>
public readonly record struct MpnOwner(MpnUse Use, VmId Vm, uint Value)
{
    /// <summary>The PPN of a <see cref="MpnUse.Private"/> page.</summary>
    public Ppn Ppn => new(Value);

    /// <summary>The share-table frame of a <see cref="MpnUse.Shared"/> page.</summary>
    public int Frame => (int)Value;
}

/// <summary>The pool of machine pages. Not thread-safe (Core is single-threaded).</summary>
public sealed class MachinePagePool
{
    private const int MinTrackedWords = 64;
    private readonly IMachineMemory _memory;
    private readonly int[] _rovers = new int[2];

    // Bit i of word i/64 is set when MPN i is in use; MPNs at or above _usedBits.Length * 64 are free.
    private ulong[] _usedBits;

    // The owner word of each MPN below _owners.Length (always _usedBits.Length * 64); 0 (free) above.
    private ulong[] _owners;

    /// <summary>Creates a pool in which every page of <paramref name="memory"/> is free.</summary>
    public MachinePagePool(IMachineMemory memory)
    {
        ArgumentNullException.ThrowIfNull(memory);
        _memory = memory;
        TotalPages = memory.PageCount;
        var words = Math.Min(MinTrackedWords, (TotalPages + 63) / 64);
        _usedBits = new ulong[words];
        _owners = new ulong[words * 64];
        FreePages = TotalPages;
        LowZonePages = TotalPages;
        FreeLowPages = TotalPages;
    }

    /// <summary>All machine pages.</summary>
    public int TotalPages { get; }

    /// <summary>Pages in the free pool.</summary>
    public int FreePages { get; private set; }

    /// <summary>Pages of the low (DMA-able) zone [0, LowZonePages); all pages unless <see cref="SetZones"/> split memory.</summary>
    public int LowZonePages { get; private set; }

    /// <summary>Free pages in the low zone.</summary>
    public int FreeLowPages { get; private set; }

    /// <summary>Where requests that may use any page are served from first.</summary>
    public ZonePreference Preference { get; private set; }

    /// <summary>The machine memory the pool manages.</summary>
    public IMachineMemory Memory => _memory;

    /// <summary>The bytes of a page.</summary>
    public Span<byte> Page(Mpn mpn) => _memory.GetPage(mpn);

    /// <summary>True when <paramref name="mpn"/> is in the free pool.</summary>
    public bool IsFree(Mpn mpn)
    {
        var word = mpn.Value >> 6;
        return word >= (uint)_usedBits.Length || (_usedBits[word] & (1UL << (int)(mpn.Value & 63))) == 0;
    }

    /// <summary>
    /// An MPN at or above which every page is free and unowned (the high-water mark of the pages ever
    /// allocated, rounded up; at most <see cref="TotalPages"/>). Checks and statistics walk [0, this).
    /// </summary>
    public int TrackedPages => Math.Min(TotalPages, _owners.Length);

    /// <summary>True when <paramref name="mpn"/> lies in the low (DMA-able) zone.</summary>
    public bool IsLow(Mpn mpn) => mpn.Value < (uint)LowZonePages;

    /// <summary>
    /// Splits memory at <paramref name="lowZonePages"/> (the DMA boundary, in pages) into a low and a high
    /// zone, and sets which zone serves requests that may use any page. A boundary at or above the
    /// memory size leaves only low memory. Pages already allocated stay where they are.
    /// </summary>
    public void SetZones(int lowZonePages, ZonePreference preference)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(lowZonePages);
        LowZonePages = Math.Min(lowZonePages, TotalPages);
        FreeLowPages = CountFree(0, LowZonePages);
        Preference = preference;
    }

    /// <summary>The owner of <paramref name="mpn"/>.</summary>
    public MpnOwner OwnerOf(Mpn mpn)
    {
        var w = mpn.Value < (uint)_owners.Length ? _owners[mpn.Value] : 0;
        return new MpnOwner((MpnUse)(w >> 62), new VmId((ushort)(w >> 32)), (uint)w);
    }

    /// <summary>
    /// Takes a free page, zeroed, for (<paramref name="vm"/>, <paramref name="ppn"/>), preferring the
    /// substrate's placement, within [<paramref name="firstMpn"/>, <paramref name="endMpn"/>). A range
    /// that spans both zones is served from the preferred zone first (<see cref="Preference"/>).
    /// </summary>
    public bool TryAllocate(VmId vm, Ppn ppn, MpnUse use, out Mpn mpn, int firstMpn = 0, int endMpn = int.MaxValue)
    {
        endMpn = Math.Min(endMpn, TotalPages);
        if (Preference == ZonePreference.HighFirst && firstMpn < LowZonePages && endMpn > LowZonePages)
        {
            return TryAllocateIn(vm, ppn, use, out mpn, LowZonePages, endMpn) || TryAllocateIn(vm, ppn, use, out mpn, firstMpn, LowZonePages);
        }

        return TryAllocateIn(vm, ppn, use, out mpn, firstMpn, endMpn);
    }

    private bool TryAllocateIn(VmId vm, Ppn ppn, MpnUse use, out Mpn mpn, int firstMpn, int endMpn)
    {
        var preferred = _memory.PreferredPlacement(vm, ppn);
        int index;
        if (preferred.IsValid && preferred.Value >= firstMpn && preferred.Value < endMpn && IsFree(preferred))
        {
            index = (int)preferred.Value;
        }
        else
        {
            ref var rover = ref _rovers[firstMpn < LowZonePages ? 0 : 1];
            var start = rover >= firstMpn && rover < endMpn ? rover : firstMpn;
            index = FindFree(start, endMpn);
            if (index < 0)
            {
                index = FindFree(firstMpn, start);
            }

            if (index < 0)
            {
                mpn = Mpn.None;
                return false;
            }

            rover = index + 1;
        }

        Track(index);
        _usedBits[index >> 6] |= 1UL << (index & 63);
        FreePages--;
        if (index < LowZonePages)
        {
            FreeLowPages--;
        }

        mpn = new Mpn((uint)index);
        SetOwner(mpn, use, vm, ppn.Value);
        _memory.Zero(mpn);
        return true;
    }

    /// <summary>Returns a page to the pool; the substrate may drop its backing.</summary>
    public void Free(Mpn mpn)
    {
        if (IsFree(mpn))
        {
            throw new InvalidOperationException($"{mpn} is freed twice.");
        }

        _usedBits[mpn.Value >> 6] &= ~(1UL << (int)(mpn.Value & 63));
        _owners[mpn.Value] = 0;
        FreePages++;
        if (IsLow(mpn))
        {
            FreeLowPages++;
        }
        _memory.Discard(mpn);
    }

    /// <summary>Records who uses <paramref name="mpn"/>.</summary>
    public void SetOwner(Mpn mpn, MpnUse use, VmId vm, uint value)
    {
        if (IsFree(mpn))
        {
            throw new InvalidOperationException($"{mpn} is free: only a page in use has an owner.");
        }

        _owners[mpn.Value] = ((ulong)use << 62) | ((ulong)vm.Value << 32) | value;
    }

    /// <summary>Free pages in [<paramref name="firstMpn"/>, <paramref name="endMpn"/>).</summary>
    public int CountFree(int firstMpn, int endMpn)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstMpn);
        endMpn = Math.Min(endMpn, TotalPages);
        if (endMpn <= firstMpn)
        {
            return 0;
        }

        // Pages in use are counted a word at a time, and only below the high-water mark.
        var used = 0;
        var trackedEnd = Math.Min(endMpn, TrackedPages);
        var i = firstMpn;
        while (i < trackedEnd)
        {
            var word = _usedBits[i >> 6] >> (i & 63);
            var bits = Math.Min(64 - (i & 63), trackedEnd - i);
            if (bits < 64)
            {
                word &= (1UL << bits) - 1;
            }

            used += BitOperations.PopCount(word);
            i += bits;
        }

        return endMpn - firstMpn - used;
    }

    private int FindFree(int from, int to)
    {
        var i = from;
        var trackedEnd = Math.Min(to, TrackedPages);
        while (i < trackedEnd)
        {
            var word = ~_usedBits[i >> 6] >> (i & 63);
            if (word != 0)
            {
                var found = i + BitOperations.TrailingZeroCount(word);
                return found < to ? found : -1;
            }

            i = (i | 63) + 1;
        }

        // Every page above the high-water mark is free.
        return i < to ? i : -1;
    }

    /// <summary>Grows the bitmap and the owner words (doubling) so that they cover MPN <paramref name="index"/>.</summary>
    private void Track(int index)
    {
        if (index < _owners.Length)
        {
            return;
        }

        var words = _usedBits.Length;
        var needed = (index >> 6) + 1;
        var maxWords = (TotalPages + 63) / 64;
        while (words < needed)
        {
            words = (int)Math.Min((long)words * 2, maxWords);
        }

        Array.Resize(ref _usedBits, words);
        Array.Resize(ref _owners, words * 64);
    }
}
