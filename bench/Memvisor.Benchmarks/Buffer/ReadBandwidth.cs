/*
 * The reference every scan figure is compared with: reading every byte of the buffer once, as fast as
 * one core can (vectorised, four independent accumulators). A sharing scan must at least read each
 * page, so pages/s of this loop is the ceiling of any single-threaded scan of the same memory.
 */
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Memvisor.Core.Memory;
using Memvisor.Native;

namespace Memvisor.Benchmarks.Buffer;

/// <summary>Plain memory reads over a mapping.</summary>
internal static class ReadBandwidth
{
    private const int BytesPerStep = 4 * 32;

    /// <summary>Reads every page of <paramref name="mapping"/> in order; returns a checksum so the reads cannot be elided.</summary>
    public static ulong ReadAll(AnonymousMapping mapping)
    {
        var sum = 0UL;
        for (var page = 0L; page < mapping.PageCount; page++)
        {
            sum += SumPage(mapping.Page(page));
        }

        return sum;
    }

    /// <summary>Sums one page as 64-bit words.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SumPage(ReadOnlySpan<byte> page)
    {
        if (page.Length != PageGeometry.PageSizeBytes)
        {
            throw new ArgumentException("Not a page.", nameof(page));
        }

        ref var start = ref MemoryMarshal.GetReference(page);
        var a0 = Vector256<ulong>.Zero;
        var a1 = Vector256<ulong>.Zero;
        var a2 = Vector256<ulong>.Zero;
        var a3 = Vector256<ulong>.Zero;
        for (nuint offset = 0; offset < PageGeometry.PageSizeBytes; offset += BytesPerStep)
        {
            a0 += Vector256.LoadUnsafe(ref start, offset).AsUInt64();
            a1 += Vector256.LoadUnsafe(ref start, offset + 32).AsUInt64();
            a2 += Vector256.LoadUnsafe(ref start, offset + 64).AsUInt64();
            a3 += Vector256.LoadUnsafe(ref start, offset + 96).AsUInt64();
        }

        return Vector256.Sum(a0 + a1 + a2 + a3);
    }
}
