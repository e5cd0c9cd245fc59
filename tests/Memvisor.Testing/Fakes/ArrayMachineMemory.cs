/*
 * In-memory fakes of Core's ports, for tests that exercise Core without a substrate: no native memory,
 * no files, no simulator. Each fake keeps the port's contract (Memvisor.Testing.Contracts states it and
 * the fakes' tests derive from it) and makes what Core did observable: which pages it discarded, which
 * mapping calls it made, what it wrote to swap. They are deterministic and not thread-safe (Core is
 * single-threaded by contract).
 *
 * Invariants of ArrayMachineMemory:
 *   1. Pages are PageSizeBytes apart in one managed array; an MPN outside [0, PageCount) is refused.
 *   2. ResidentPages counts the pages handed out by GetPage and not discarded since.
 *   3. A discarded page is filled with DiscardedByte: code that relied on a freed page's bytes reads
 *      poison instead of the data it expected (a real substrate may drop the backing or keep it).
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Testing.Fakes;

/// <summary>Machine memory as a managed array, with an optional placement hint and a count of discards.</summary>
public sealed class ArrayMachineMemory : IMachineMemory
{
    /// <summary>What a discarded page holds until the pool hands it out (and zeroes it) again.</summary>
    public const byte DiscardedByte = 0xDB;

    private readonly byte[] _bytes;
    private readonly bool[] _resident;
    private readonly Func<VmId, Ppn, Mpn>? _placement;

    /// <summary>
    /// Machine memory of <paramref name="pageCount"/> pages; <paramref name="placement"/> answers
    /// <see cref="PreferredPlacement"/> (no preference when null).
    /// </summary>
    public ArrayMachineMemory(int pageCount, Func<VmId, Ppn, Mpn>? placement = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageCount, Array.MaxLength / PageGeometry.PageSizeBytes);
        PageCount = pageCount;
        _bytes = new byte[(long)pageCount * PageGeometry.PageSizeBytes];
        _resident = new bool[pageCount];
        _placement = placement;
    }

    /// <inheritdoc/>
    public int PageCount { get; }

    /// <inheritdoc/>
    public long ResidentPages { get; private set; }

    /// <summary>Calls of <see cref="Discard"/> so far.</summary>
    public long Discards { get; private set; }

    /// <inheritdoc/>
    public Span<byte> GetPage(Mpn mpn)
    {
        var index = Check(mpn);
        if (!_resident[index])
        {
            _resident[index] = true;
            ResidentPages++;
        }

        return _bytes.AsSpan(index * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes);
    }

    /// <inheritdoc/>
    public void Zero(Mpn mpn) => GetPage(mpn).Clear();

    /// <inheritdoc/>
    public Mpn PreferredPlacement(VmId vm, Ppn ppn) => _placement?.Invoke(vm, ppn) ?? Mpn.None;

    /// <inheritdoc/>
    public void Discard(Mpn mpn)
    {
        var index = Check(mpn);
        Discards++;
        _bytes.AsSpan(index * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes).Fill(DiscardedByte);
        if (_resident[index])
        {
            _resident[index] = false;
            ResidentPages--;
        }
    }

    private int Check(Mpn mpn) =>
        mpn.Value < (uint)PageCount
            ? (int)mpn.Value
            : throw new ArgumentOutOfRangeException(nameof(mpn), $"{mpn} is beyond the {PageCount} machine pages.");
}
