/*
 * The simulator's machine memory: real bytes in one native allocation, page-addressed by MPN.
 *
 * On Linux the block is an anonymous private mapping (zero-filled by the kernel, backed lazily, so a
 * host with gigabytes of simulated machine memory costs only the pages actually used), aligned to
 * 2 MiB and advised MADV_HUGEPAGE: the kernel then backs it with transparent huge pages where it can.
 * The first touch of a 4 KiB machine page would otherwise cost one page fault of the process each
 * (~19 us on a nested VM, where a simulated host touches a quarter of a million of them); with huge
 * pages one fault backs 512 machine pages. Where the advice is refused (THP "never") the mapping
 * simply stays 4 KiB-backed. Elsewhere, or when the mapping fails, the block comes from
 * NativeMemory.AllocZeroed. Discarded pages keep their backing (the pool zeroes pages when it hands
 * them out again).
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Simulation.Memory;

/// <summary>Machine memory in native memory.</summary>
public sealed unsafe partial class NativeMachineMemory : IMachineMemory, IDisposable
{
    private const nuint HugePageBytes = 2 * 1024 * 1024;
    private byte* _base;
    // The mapping to unmap (Linux), or null when _base came from NativeMemory.AllocZeroed.
    private void* _mapping;
    private nuint _mappingBytes;
    private readonly bool[] _touched;
    private long _resident;

    /// <summary>Allocates <paramref name="pageCount"/> machine pages.</summary>
    public NativeMachineMemory(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        PageCount = pageCount;
        var bytes = (nuint)pageCount * PageGeometry.PageSizeBytes;
        // SAFETY: the block is PageCount * PageSizeBytes bytes, owned by this object and freed once in Dispose.
        _base = OperatingSystem.IsLinux() ? MapHugePageAligned(bytes) : null;
        if (_base is null)
        {
            _base = (byte*)NativeMemory.AllocZeroed(bytes);
        }

        _touched = new bool[pageCount];
    }

    /// <inheritdoc/>
    public int PageCount { get; }

    /// <inheritdoc/>
    public long ResidentPages => _resident;

    /// <inheritdoc/>
    public Span<byte> GetPage(Mpn mpn)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        if (mpn.Value >= (uint)PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(mpn), $"{mpn} is beyond the {PageCount} machine pages.");
        }

        if (!_touched[mpn.Value])
        {
            _touched[mpn.Value] = true;
            _resident++;
        }

        // SAFETY: mpn < PageCount was checked above, so the page lies inside the allocation, which lives until Dispose.
        return new Span<byte>(_base + ((nint)mpn.Value * PageGeometry.PageSizeBytes), PageGeometry.PageSizeBytes);
    }

    /// <inheritdoc/>
    public Mpn PreferredPlacement(VmId vm, Ppn ppn) => Mpn.None;

    /// <inheritdoc/>
    public void Discard(Mpn mpn)
    {
        if (_touched[mpn.Value])
        {
            _touched[mpn.Value] = false;
            _resident--;
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
            // SAFETY: _mapping is the mapping of _mappingBytes made in MapHugePageAligned, unmapped exactly once.
            _ = Munmap(_mapping, _mappingBytes);
            _mapping = null;
        }
        else
        {
            // SAFETY: _base came from NativeMemory.AllocZeroed and is freed exactly once (set to null after).
            NativeMemory.Free(_base);
        }

        _base = null;
    }

    /// <summary>
    /// Maps <paramref name="bytes"/> of anonymous memory starting on a 2 MiB boundary (one huge page
    /// more is mapped so that the start can be rounded up) and advises huge pages; null if mmap fails.
    /// </summary>
    private byte* MapHugePageAligned(nuint bytes)
    {
        var length = bytes + HugePageBytes;
        var mapping = Mmap(null, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        if (mapping == MapFailed)
        {
            return null;
        }

        _mapping = mapping;
        _mappingBytes = length;
        var aligned = ((nuint)mapping + HugePageBytes - 1) & ~(HugePageBytes - 1);
        // Refused advice (THP disabled) leaves an ordinary mapping: nothing to do about it.
        _ = Madvise((void*)aligned, bytes, MadvHugePage);
        return (byte*)aligned;
    }

    private const int ProtRead = 0x1;
    private const int ProtWrite = 0x2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    // No commit charge up front: a scenario may give its host more memory than it will ever touch.
    private const int MapNoReserve = 0x4000;
    private const int MadvHugePage = 14;
    private static readonly void* MapFailed = (void*)-1;

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* address, nuint lengthBytes, int protection, int flags, int fd, nint offsetBytes);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint lengthBytes);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint lengthBytes, int advice);
}
