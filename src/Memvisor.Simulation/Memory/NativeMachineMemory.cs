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
 * Discarded pages keep their backing (the pool zeroes pages when it hands them out again, and hands out
 * the lowest free pages first, so the backing follows the most pages in use at once). A page nothing
 * has written since the mapping was made still reads as zeros, so zeroing it is skipped (Zero) and it
 * stays unbacked until a guest uses it: overhead memory, which nothing writes, costs nothing.
 * The bitmaps of touched pages (for ResidentPages) and of pages that may hold non-zero bytes are
 * zero-filled native memory too (calloc, which the C runtime serves from fresh zero pages for large
 * blocks), so they are also backed only where touched: nothing here costs in proportion to machine
 * memory that is never used.
 *
 * What a page holds for certain: per page, the token (PageContent) of its contents as last recorded by
 * a guest that wrote the page through a span or compared every byte of it, or Unknown. Every byte
 * written to this memory is written through a span GetPage hands out (or by Zero, which records the zero
 * page), and GetPage forgets the page's record, since whoever holds the span may write anything; a
 * guest's load takes ReadPage's read-only span, which keeps it. So a record equal to the token a guest
 * expects proves every byte, and the guest's check of a read skips the 4 KiB comparison (GuestOs). A
 * span is for its taker's immediate use: none is kept across a guest's access (a Span cannot be stored).
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Native;
using Memvisor.Core.Ports;
using Memvisor.Simulation.Images;

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
    // One bit per machine page, set once a span of it was handed out (it may hold non-zero bytes since).
    private ulong* _written;
    // Per machine page, the token (PageContent) of what it holds for certain, or PageContent.Unknown
    // (zero-filled: a page nothing wrote holds the zero page, token 0).
    private ulong* _contents;
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
        _written = (ulong*)NativeMemory.AllocZeroed(((nuint)pageCount + 63) / 64, sizeof(ulong));
        _contents = (ulong*)NativeMemory.AllocZeroed((nuint)pageCount, sizeof(ulong));
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
        MarkTouched(mpn);
        _written[mpn.Value >> 6] |= 1UL << (int)(mpn.Value & 63);
        // Whoever has the span may write anything into it.
        _contents[mpn.Value] = PageContent.Unknown;

        // SAFETY: mpn < PageCount was checked above, so the page lies inside the allocation, which lives until Dispose.
        return new Span<byte>(_base + ((nint)mpn.Value * PageGeometry.PageSizeBytes), PageGeometry.PageSizeBytes);
    }

    /// <summary>
    /// A guest's load from the page: its bytes, read-only. Unlike <see cref="GetPage"/> this hands out no
    /// writable span, so what <see cref="KnownContents"/> says of the page stays true.
    /// </summary>
    public ReadOnlySpan<byte> ReadPage(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        MarkTouched(mpn);

        // SAFETY: as in GetPage: mpn < PageCount, inside the allocation, which lives until Dispose.
        return new ReadOnlySpan<byte>(_base + ((nint)mpn.Value * PageGeometry.PageSizeBytes), PageGeometry.PageSizeBytes);
    }

    /// <summary>
    /// The token (<see cref="PageContent"/>) whose page the machine page holds for certain, or
    /// <see cref="PageContent.Unknown"/>: what <see cref="RecordContents"/> last said, as long as no
    /// writable span of the page was handed out since (every byte written to machine memory is written
    /// through one, or by <see cref="Zero"/>, which records the zero page). A page nothing wrote holds the zero page.
    /// </summary>
    public ulong KnownContents(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        return _contents[mpn.Value];
    }

    /// <summary>
    /// Records that the page holds <paramref name="token"/>'s page: the caller has just written it (through
    /// a span of <see cref="GetPage"/>, nothing else in between) or compared every byte of it with it.
    /// </summary>
    public void RecordContents(Mpn mpn, ulong token)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        _contents[mpn.Value] = token;
    }

    /// <summary>
    /// A user of the page writes zeros over it (a guest zeroing its free memory): the page counts as touched
    /// as after <see cref="GetPage"/>, but one nothing has written still reads as zeros and is left unwritten
    /// (and unbacked: the kernel would otherwise zero a whole huge page to back it).
    /// </summary>
    public void ZeroTouched(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        if ((_written[mpn.Value >> 6] & (1UL << (int)(mpn.Value & 63))) != 0)
        {
            GetPage(mpn).Clear();
        }
        else
        {
            MarkTouched(mpn);
        }

        _contents[mpn.Value] = PageContent.Zero;
    }

    /// <inheritdoc/>
    public void Zero(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        CheckMpn(mpn);
        if ((_written[mpn.Value >> 6] & (1UL << (int)(mpn.Value & 63))) != 0)
        {
            GetPage(mpn).Clear();
        }

        _contents[mpn.Value] = PageContent.Zero;
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

    private void MarkTouched(Mpn mpn)
    {
        ref var word = ref _touched[mpn.Value >> 6];
        var bit = 1UL << (int)(mpn.Value & 63);
        if ((word & bit) == 0)
        {
            word |= bit;
            _resident++;
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
        // SAFETY: _written came from NativeMemory.AllocZeroed in the constructor and is freed exactly once.
        NativeMemory.Free(_written);
        _written = null;
        // SAFETY: _contents came from NativeMemory.AllocZeroed in the constructor and is freed exactly once.
        NativeMemory.Free(_contents);
        _contents = null;
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
