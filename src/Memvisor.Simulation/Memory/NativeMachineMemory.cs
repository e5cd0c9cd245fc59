/*
 * The simulator's machine memory: real bytes in one native allocation, page-addressed by MPN.
 *
 * The allocation is zero-filled by the C runtime; for large sizes the kernel backs it lazily, so a
 * host with gigabytes of simulated machine memory costs only the pages actually used. Discarded pages
 * keep their backing (the pool zeroes pages when it hands them out again).
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Ports;

namespace Memvisor.Simulation.Memory;

/// <summary>Machine memory in native memory.</summary>
public sealed unsafe class NativeMachineMemory : IMachineMemory, IDisposable
{
    private byte* _base;
    private readonly bool[] _touched;
    private long _resident;

    /// <summary>Allocates <paramref name="pageCount"/> machine pages.</summary>
    public NativeMachineMemory(int pageCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        PageCount = pageCount;
        // SAFETY: the block is PageCount * PageSizeBytes bytes, owned by this object and freed once in Dispose.
        _base = (byte*)NativeMemory.AllocZeroed((nuint)pageCount * PageGeometry.PageSizeBytes);
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
        if (_base is not null)
        {
            // SAFETY: _base came from NativeMemory.AllocZeroed and is freed exactly once (set to null after).
            NativeMemory.Free(_base);
            _base = null;
        }
    }
}
