/*
 * An owned anonymous private mapping (mmap(MAP_PRIVATE | MAP_ANONYMOUS), read-write).
 *
 * Problem. Benchmarks and the KSM side-by-side need page-aligned memory that the kernel treats as
 * ordinary anonymous memory (KSM merges only that), can advise (MADV_MERGEABLE, MADV_DONTNEED) and
 * that is unmapped exactly once, also when an exception unwinds. A SafeHandle gives that guarantee
 * (including the finalizer backstop) and refuses to release while a call holds a reference.
 *
 * Data. The mapping's address is the handle; its length is fixed at creation. Pages are handed out as
 * spans over the mapping: a span is valid until the mapping is disposed, and must not outlive it.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>An anonymous read-write mapping that is unmapped on dispose.</summary>
public sealed class AnonymousMapping : SafeHandle
{
    private const int Eperm = 1;
    private const int Einval = 22;
    private const int Enosys = 38;
    private static bool _processMadviseUnsupported;

    private AnonymousMapping(nint address, long lengthBytes)
        : base(MemoryMapNative.MapFailed, ownsHandle: true)
    {
        SetHandle(address);
        LengthBytes = lengthBytes;
    }

    /// <summary>Bytes mapped.</summary>
    public long LengthBytes { get; }

    /// <summary>4 KiB pages mapped.</summary>
    public long PageCount => LengthBytes / NativePage.SizeBytes;

    /// <inheritdoc/>
    public override bool IsInvalid => handle == 0 || handle == MemoryMapNative.MapFailed;

    /// <summary>
    /// Maps <paramref name="pageCount"/> zero-filled pages; <paramref name="populate"/> faults them in now (MAP_POPULATE);
    /// <paramref name="reserve"/> false takes no commit charge up front (MAP_NORESERVE), for memory that may never all be touched.
    /// </summary>
    public static AnonymousMapping Create(long pageCount, bool populate = false, bool reserve = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        if (Environment.SystemPageSize != NativePage.SizeBytes)
        {
            throw new PlatformNotSupportedException($"The host page size is {Environment.SystemPageSize} bytes; Memvisor needs {NativePage.SizeBytes}.");
        }

        var lengthBytes = pageCount * NativePage.SizeBytes;
        var flags = MemoryMapNative.MapPrivate | MemoryMapNative.MapAnonymous | (populate ? MemoryMapNative.MapPopulate : 0) | (reserve ? 0 : MemoryMapNative.MapNoReserve);
        var address = MemoryMapNative.Mmap(0, (nuint)lengthBytes, MemoryMapNative.ProtRead | MemoryMapNative.ProtWrite, flags, -1, 0);
        return address == MemoryMapNative.MapFailed
            ? throw ErrnoException.FromLastError($"mmap({lengthBytes} bytes, anonymous)")
            : new AnonymousMapping(address, lengthBytes);
    }

    /// <summary>Page <paramref name="pageIndex"/> of the mapping. Valid until the mapping is disposed.</summary>
    public unsafe Span<byte> Page(long pageIndex)
    {
        ObjectDisposedException.ThrowIf(IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfNegative(pageIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pageIndex, PageCount);

        // SAFETY: the mapping is open (checked above) and pageIndex < PageCount, so the span lies inside
        // the LengthBytes mapped at creation. It dangles if used after Dispose, as documented.
        return new Span<byte>((byte*)handle + (pageIndex * NativePage.SizeBytes), NativePage.SizeBytes);
    }

    /// <summary>Gives the kernel <paramref name="advice"/> for <paramref name="pageCount"/> pages from <paramref name="firstPage"/>.</summary>
    public void Advise(MemoryAdvice advice, long firstPage, long pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPage);
        ArgumentOutOfRangeException.ThrowIfNegative(pageCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstPage + pageCount, PageCount);
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            var address = handle + (nint)(firstPage * NativePage.SizeBytes);
            if (MemoryMapNative.Madvise(address, (nuint)(pageCount * NativePage.SizeBytes), (int)advice) != 0)
            {
                throw ErrnoException.FromLastError($"madvise(MADV_{advice.ToString().ToUpperInvariant()})");
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    /// <summary>
    /// Gives the kernel <paramref name="advice"/> for the single pages <paramref name="pages"/> (at most
    /// 1024) in one process_madvise call: one TLB flush for them all where the kernel batches it.
    /// Falls back to one madvise per page where process_madvise does not take this advice (EINVAL,
    /// ENOSYS, EPERM on older kernels).
    /// </summary>
    public unsafe void AdvisePages(MemoryAdvice advice, ReadOnlySpan<uint> pages)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pages.Length, ProcessMadviseNative.MaxRanges);
        var vectors = stackalloc ProcessMadviseNative.IoVector[pages.Length];
        var added = false;
        try
        {
            DangerousAddRef(ref added);
            for (var i = 0; i < pages.Length; i++)
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(pages[i], PageCount);
                vectors[i].Base = handle + (nint)((long)pages[i] * NativePage.SizeBytes);
                vectors[i].LengthBytes = NativePage.SizeBytes;
            }

            var done = 0;
            while (done < pages.Length && !_processMadviseUnsupported)
            {
                // SAFETY: vectors holds pages.Length initialised entries (stack memory of this frame);
                // each names one page inside this mapping, kept mapped by the AddRef above.
                var advisedBytes = ProcessMadviseNative.ProcessMadvise(ProcessMadviseNative.Self, vectors + done, (nuint)(pages.Length - done), (int)advice, 0);
                if (advisedBytes < 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    if (errno is Einval or Enosys or Eperm)
                    {
                        _processMadviseUnsupported = true;
                        break;
                    }

                    throw new ErrnoException($"process_madvise(MADV_{advice.ToString().ToUpperInvariant()})", errno);
                }

                // The call may stop early; it advises whole vectors in order.
                done += (int)(advisedBytes / NativePage.SizeBytes);
            }

            for (var i = done; i < pages.Length; i++)
            {
                Advise(advice, pages[i], 1);
            }
        }
        finally
        {
            if (added)
            {
                DangerousRelease();
            }
        }
    }

    /// <summary>Gives the kernel <paramref name="advice"/> for the whole mapping.</summary>
    public void Advise(MemoryAdvice advice) => Advise(advice, 0, PageCount);

    /// <inheritdoc/>
    protected override bool ReleaseHandle() => MemoryMapNative.Munmap(handle, (nuint)LengthBytes) == 0;
}
