/*
 * Demand paging to a host swap area (paper §3.3).
 *
 * Problem. When ballooning cannot reclaim enough, the host writes VM pages to its own swap area
 * without the guest's help. Slots must be found quickly, written in clusters, reused when freed, and
 * reserved in advance: a VM is admitted only if the swap area can hold max - min of its pages, so its
 * memory can always be preserved. A page read back must be exactly the page written.
 *
 * Data structures. A bitmap of used slots searched from a roving cursor (consecutive allocations are
 * consecutive slots, so a batch of victims is written with one I/O per run of slots); a 64-bit
 * checksum per slot (XxHash3 of the page, salted with the slot number, so a page read from the wrong
 * slot fails too); the total of reservations.
 */
using System.IO.Hashing;
using System.Numerics;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;
using Memvisor.Core.Statistics;

namespace Memvisor.Core.Swap;

/// <summary>Slot management, reservation and checksummed I/O over an <see cref="ISwapDevice"/>.</summary>
public sealed class SwapSpace : IDisposable
{
    private const ulong ChecksumSalt = 0xC2B2AE3D27D4EB4FUL;
    private readonly ISwapDevice _device;
    private readonly ulong[] _usedBits;
    private readonly ulong[] _checksums;
    private int _rover;

    /// <summary>Creates a swap area of <paramref name="capacityPages"/> slots on <paramref name="device"/>.</summary>
    public SwapSpace(ISwapDevice device, int capacityPages)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentOutOfRangeException.ThrowIfNegative(capacityPages);
        _device = device;
        CapacityPages = capacityPages;
        _usedBits = new ulong[(capacityPages + 63) / 64];
        _checksums = new ulong[capacityPages];
    }

    /// <summary>The device's name (the swap file's path).</summary>
    public string DeviceName => _device.Name;

    /// <summary>Slots in the swap area.</summary>
    public int CapacityPages { get; }

    /// <summary>Slots holding a page.</summary>
    public int UsedPages { get; private set; }

    /// <summary>Slots promised to admitted VMs (max - min each).</summary>
    public long ReservedPages { get; private set; }

    /// <summary>Reserves <paramref name="pages"/> slots; false when the area cannot promise them.</summary>
    public bool TryReserve(long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        if (ReservedPages + pages > CapacityPages)
        {
            return false;
        }

        ReservedPages += pages;
        return true;
    }

    /// <summary>Gives back a reservation.</summary>
    public void Unreserve(long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        ReservedPages = Math.Max(0, ReservedPages - pages);
    }

    /// <summary>Allocates up to <c>slots.Length</c> slots, consecutive where possible; returns how many.</summary>
    public int Allocate(Span<SwapSlot> slots)
    {
        var n = 0;
        while (n < slots.Length && UsedPages < CapacityPages)
        {
            var index = FindFree(_rover, CapacityPages);
            if (index < 0)
            {
                index = FindFree(0, _rover);
            }

            if (index < 0)
            {
                break;
            }

            _usedBits[index >> 6] |= 1UL << (index & 63);
            UsedPages++;
            _rover = index + 1 == CapacityPages ? 0 : index + 1;
            slots[n++] = new SwapSlot((uint)index);
        }

        return n;
    }

    /// <summary>Frees a slot for reuse.</summary>
    public void Free(SwapSlot slot)
    {
        var bit = 1UL << (int)(slot.Value & 63);
        if ((_usedBits[slot.Value >> 6] & bit) == 0)
        {
            throw new InvalidOperationException($"Swap {slot} is freed twice.");
        }

        _usedBits[slot.Value >> 6] &= ~bit;
        _checksums[slot.Value] = 0;
        UsedPages--;
    }

    /// <summary>True when <paramref name="slot"/> holds a page.</summary>
    public bool IsUsed(SwapSlot slot) => (_usedBits[slot.Value >> 6] & (1UL << (int)(slot.Value & 63))) != 0;

    /// <summary>
    /// Writes <paramref name="pages"/> (one page per slot, in order) to <paramref name="slots"/>, one
    /// write per run of consecutive slots. On failure throws <see cref="SwapWriteException"/>; the
    /// caller still owns the slots and frees them. Counts pages, operations and errors into <paramref name="counters"/>.
    /// </summary>
    public void Write(ReadOnlySpan<SwapSlot> slots, ReadOnlySpan<byte> pages, ref HostCounters counters)
    {
        var i = 0;
        while (i < slots.Length)
        {
            var run = 1;
            while (i + run < slots.Length && slots[i + run].Value == slots[i].Value + run)
            {
                run++;
            }

            var data = pages.Slice(i * PageGeometry.PageSizeBytes, run * PageGeometry.PageSizeBytes);
            try
            {
                counters.SwapWriteOperations++;
                _device.Write((long)slots[i].Value * PageGeometry.PageSizeBytes, data);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                counters.SwapWriteErrors++;
                throw new SwapWriteException($"Writing {run} page(s) to swap file {_device.Name} at {slots[i]} failed: {e.Message}", e);
            }

            for (var k = 0; k < run; k++)
            {
                var slot = slots[i + k].Value;
                _checksums[slot] = Checksum(data.Slice(k * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes), slot);
            }

            counters.SwapPagesWritten += run;
            i += run;
        }
    }

    /// <summary>Reads the page in <paramref name="slot"/> and verifies its checksum; throws <see cref="SwapReadException"/> on failure. Counts into <paramref name="counters"/>.</summary>
    public void Read(SwapSlot slot, Span<byte> page, VmId vm, Ppn ppn, ref HostCounters counters)
    {
        try
        {
            _device.Read((long)slot.Value * PageGeometry.PageSizeBytes, page);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            counters.SwapReadErrors++;
            throw new SwapReadException($"Reading {vm} {ppn} from swap file {_device.Name} at {slot} failed: {e.Message}", vm, ppn, slot, false, e);
        }

        if (Checksum(page, slot.Value) != _checksums[slot.Value])
        {
            counters.SwapChecksumFailures++;
            throw new SwapReadException($"{vm} {ppn}: swap file {_device.Name} at {slot} holds data that fails its checksum; the page was not handed to the guest.", vm, ppn, slot, true);
        }

        counters.SwapPagesRead++;
    }

    /// <inheritdoc/>
    public void Dispose() => _device.Dispose();

    private static ulong Checksum(ReadOnlySpan<byte> page, uint slot) => XxHash3.HashToUInt64(page, (long)(ChecksumSalt ^ slot));

    private int FindFree(int from, int to)
    {
        var i = from;
        while (i < to)
        {
            var word = ~_usedBits[i >> 6] >> (i & 63);
            if (word != 0)
            {
                var found = i + BitOperations.TrailingZeroCount(word);
                return found < to ? found : -1;
            }

            i = (i | 63) + 1;
        }

        return -1;
    }
}
