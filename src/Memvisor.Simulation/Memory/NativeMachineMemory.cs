/*
 * The simulator's machine memory: real bytes in one native allocation, page-addressed by MPN.
 *
 * On Linux the block is an anonymous private mapping (zero-filled by the kernel, backed lazily, so a
 * host with gigabytes of simulated machine memory costs only the pages actually used), aligned to
 * 2 MiB and advised MADV_HUGEPAGE: the kernel then backs it with transparent huge pages where it can.
 * The first touch of a 4 KiB machine page would otherwise cost one page fault of the process each
 * (~19 us on a nested VM, where a simulated host touches a quarter of a million of them); with huge
 * pages one fault backs 512 machine pages. Where the advice is refused (THP "never") the mapping
 * simply stays 4 KiB-backed. The mapping is Memvisor.Native's AnonymousMapping (all native calls live
 * there). Elsewhere, or when the mapping fails, the block comes from NativeMemory.AllocZeroed.
 * Discarded pages keep their backing (the pool zeroes pages when it hands them out again). A page never
 * handed out by GetPage still holds the mapping's zeros, so Zero writes nothing to it: a page the pool
 * hands out is backed when it is first really used, and one that never is (a VM's overhead memory) is
 * never backed at all (the default scenario's first simulated second backs ~135 MB less).
 * The bitmaps of touched pages (for ResidentPages) and of pages ever handed out (for Zero) are zero-filled
 * native memory too (calloc, which the C runtime serves from fresh zero pages for large blocks), so they
 * are also backed only where touched:
 * nothing here costs in proportion to machine memory that is never used.
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Native;
using Memvisor.Core.Ports;

namespace Memvisor.Simulation.Memory;

/// <summary>Machine memory in native memory.</summary>
public sealed unsafe class NativeMachineMemory : IMachineMemory, IDisposable
{
    private const int HugePagePages = 512;
    private byte* _base;
    // The mapping _base lies in (Linux), or null when _base came from NativeMemory.AllocZeroed.
    private AnonymousMapping? _mapping;
    // One bit per machine page, set while the page is touched (zero-filled native memory).
    private ulong* _touched;
    // One bit per machine page, set once GetPage has handed the page out (its bytes may differ from zero).
    private ulong* _handedOut;
    private long _resident;

    /// <summary>Allocates <paramref name="pageCount"/> machine pages.</summary>
    public NativeMachineMemory(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        PageCount = pageCount;
        var bytes = (nuint)pageCount * PageGeometry.PageSizeBytes;
        // SAFETY: the block is PageCount * PageSizeBytes bytes, owned by this object and freed once in Dispose.
        _base = OperatingSystem.IsLinux() ? MapHugePageAligned(pageCount) : null;
        if (_base is null)
        {
            _base = (byte*)NativeMemory.AllocZeroed(bytes);
        }

        _touched = (ulong*)NativeMemory.AllocZeroed(((nuint)pageCount + 63) / 64, sizeof(ulong));
        _handedOut = (ulong*)NativeMemory.AllocZeroed(((nuint)pageCount + 63) / 64, sizeof(ulong));
    }

    /// <inheritdoc/>
    public int PageCount { get; }

    /// <inheritdoc/>
    public long ResidentPages => _resident;

    /// <inheritdoc/>
    public Span<byte> GetPage(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        var bit = 1UL << (int)(mpn.Value & 63);
        _handedOut[mpn.Value >> 6] |= bit;
        Touch(mpn.Value, bit);

        // SAFETY: mpn < PageCount was checked above, so the page lies inside the allocation, which lives until Dispose.
        return new Span<byte>(_base + ((nint)mpn.Value * PageGeometry.PageSizeBytes), PageGeometry.PageSizeBytes);
    }

    /// <inheritdoc/>
    public void Zero(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        var bit = 1UL << (int)(mpn.Value & 63);
        if ((_handedOut[mpn.Value >> 6] & bit) != 0)
        {
            GetPage(mpn).Clear();
            return;
        }

        // Never handed out: the page still holds the mapping's zeros. Counted as touched, left unwritten.
        Touch(mpn.Value, bit);
    }

    private void Touch(uint mpn, ulong bit)
    {
        ref var word = ref _touched[mpn >> 6];
        if ((word & bit) == 0)
        {
            word |= bit;
            _resident++;
        }
    }

    /// <inheritdoc/>
    public Mpn PreferredPlacement(VmId vm, Ppn ppn) => Mpn.None;

    /// <inheritdoc/>
    public void Discard(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        ref var word = ref _touched[mpn.Value >> 6];
        var bit = 1UL << (int)(mpn.Value & 63);
        if ((word & bit) != 0)
        {
            word &= ~bit;
            _resident--;
        }
    }

    private void CheckMpn(Mpn mpn)
    {
        if (mpn.Value >= (uint)PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(mpn), $"{mpn} is beyond the {PageCount} machine pages.");
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_base is null)
        {
            return;
        }

        if (_mapping is not null)
        {
            _mapping.Dispose();
            _mapping = null;
        }
        else
        {
            // SAFETY: _base came from NativeMemory.AllocZeroed and is freed exactly once (set to null after).
            NativeMemory.Free(_base);
        }

        _base = null;
        // SAFETY: _touched came from NativeMemory.AllocZeroed in the constructor and is freed exactly once (_base is null after).
        NativeMemory.Free(_touched);
        _touched = null;
        // SAFETY: as _touched, freed exactly once.
        NativeMemory.Free(_handedOut);
        _handedOut = null;
    }

    /// <summary>
    /// Maps anonymous memory for <paramref name="pageCount"/> pages starting on a 2 MiB boundary (one huge
    /// page more is mapped so that the start can be rounded up) and advises huge pages; null if the mapping fails.
    /// </summary>
    private byte* MapHugePageAligned(int pageCount)
    {
        try
        {
            _mapping = AnonymousMapping.Create(pageCount + HugePagePages, reserve: false);
        }
        catch (Exception e) when (e is ErrnoException or PlatformNotSupportedException)
        {
            // No mapping (or a host page size other than 4 KiB): the caller falls back to the C runtime.
            return null;
        }

        var start = _mapping.DangerousGetHandle();
        const nint HugePageBytes = HugePagePages * PageGeometry.PageSizeBytes;
        var aligned = (start + HugePageBytes - 1) & ~(HugePageBytes - 1);
        try
        {
            _mapping.Advise(MemoryAdvice.HugePage, (aligned - start) / PageGeometry.PageSizeBytes, pageCount);
        }
        catch (ErrnoException)
        {
            // Refused advice (THP disabled) leaves an ordinary mapping: nothing to do about it.
        }

        // SAFETY: aligned lies at most HugePagePages pages into the mapping, which holds pageCount pages more
        // than that; the mapping is owned by this object and unmapped only in Dispose.
        return (byte*)aligned;
    }
}
