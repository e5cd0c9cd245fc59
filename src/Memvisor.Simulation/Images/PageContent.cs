/*
 * Page contents of simulated guests, generated from 64-bit tokens.
 *
 * A simulated guest never stores page bytes of its own: it records, for every page it writes, the token
 * the bytes were generated from, and checks what it reads against that record. A token fixes a page's
 * 4 KiB completely (token 0 is the all-zero page), so equal tokens give byte-identical pages, which is
 * how pages of the same guest image end up shareable across VMs, and different tokens give pages that
 * differ in every 64-bit word. The generator is vectorised: filling or checking a page
 * costs about as much as copying it.
 */
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Memvisor.Core.Memory;

namespace Memvisor.Simulation.Images;

/// <summary>Generates and checks page contents from tokens.</summary>
public static class PageContent
{
    /// <summary>The token of the all-zero page.</summary>
    public const ulong Zero = 0;

    /// <summary>A token for contents the guest cannot know (a page the balloon gave back): never checked.</summary>
    public const ulong Unknown = ulong.MaxValue;

    private const ulong Stride = 0x9E3779B97F4A7C15UL;
    private const int StartBytes = 64;

    /// <summary>Mixes a value into a well-spread token (SplitMix64's finaliser); never <see cref="Zero"/> or <see cref="Unknown"/>.</summary>
    public static ulong Mix(ulong value)
    {
        var z = Spread(value);
        return z is Zero or Unknown ? 1 : z;
    }

    /// <summary>Mixes two values into a token.</summary>
    public static ulong Mix(ulong a, ulong b) => Mix(a ^ Mix(b));

    /// <summary>Writes the page that <paramref name="token"/> stands for.</summary>
    public static void Fill(Span<byte> page, ulong token)
    {
        CheckSize(page.Length);
        if (token == Zero)
        {
            page.Clear();
            return;
        }

        if (Sse2.IsSupported && IsStreamable(page))
        {
            FillStreaming(page, token);
            return;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            Fill512(page, token);
            return;
        }

        // Four independent chains of vectors (a page is a multiple of four vectors wide) keep the generator in registers.
        var words = MemoryMarshal.Cast<byte, Vector<ulong>>(page);
        var v0 = Vector.CreateSequence(Spread(token), Stride);
        var step = new Vector<ulong>((ulong)Vector<ulong>.Count * Stride);
        var v1 = v0 + step;
        var v2 = v1 + step;
        var v3 = v2 + step;
        var step4 = step + step + step + step;
        for (var i = 0; i + 3 < words.Length; i += 4)
        {
            words[i] = v0;
            words[i + 1] = v1;
            words[i + 2] = v2;
            words[i + 3] = v3;
            v0 += step4;
            v1 += step4;
            v2 += step4;
            v3 += step4;
        }
    }

    /// <summary>Whether <paramref name="page"/> lies on a 64-byte boundary (machine pages do: they are 4 KiB-aligned), so that whole cache lines can be streamed to it.</summary>
    private static unsafe bool IsStreamable(Span<byte> page) =>
        ((nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(page)) & (StartBytes - 1)) == 0;

    /// <summary>
    /// <see cref="Fill"/> with non-temporal 128-bit stores, one cache line per step (the same words): the
    /// page's old contents are not read into the cache first (a plain store fetches each line before it
    /// overwrites it, and waits for memory), and the new ones do not push other data out of it. The guest
    /// rarely reads a page soon after writing it (a read of contents it wrote is checked against the
    /// machine page's record, not the bytes), so streaming costs nothing later.
    /// </summary>
    private static unsafe void FillStreaming(Span<byte> page, ulong token)
    {
        var start = Spread(token);
        var v0 = Vector128.Create(start, start + Stride);
        var step = Vector128.Create(unchecked(2 * Stride));
        var v1 = v0 + step;
        var v2 = v1 + step;
        var v3 = v2 + step;
        var step4 = step + step + step + step;
        var line = (ulong*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(page));
        var end = line + (PageGeometry.PageSizeBytes / sizeof(ulong));
        for (; line < end; line += StartBytes / sizeof(ulong))
        {
            Sse2.StoreAlignedNonTemporal(line, v0);
            Sse2.StoreAlignedNonTemporal(line + 2, v1);
            Sse2.StoreAlignedNonTemporal(line + 4, v2);
            Sse2.StoreAlignedNonTemporal(line + 6, v3);
            v0 += step4;
            v1 += step4;
            v2 += step4;
            v3 += step4;
        }
    }

    /// <summary>True when <paramref name="page"/> holds exactly what <paramref name="token"/> stands for (always true for <see cref="Unknown"/>).</summary>
    public static bool Matches(ReadOnlySpan<byte> page, ulong token)
    {
        CheckSize(page.Length);
        if (token == Zero)
        {
            return !page.ContainsAnyExcept((byte)0);
        }

        if (token == Unknown)
        {
            return true;
        }

        if (Vector512.IsHardwareAccelerated)
        {
            return Matches512(page, token);
        }

        var words = MemoryMarshal.Cast<byte, Vector<ulong>>(page);
        var v0 = Vector.CreateSequence(Spread(token), Stride);
        var step = new Vector<ulong>((ulong)Vector<ulong>.Count * Stride);
        var v1 = v0 + step;
        var v2 = v1 + step;
        var v3 = v2 + step;
        var step4 = step + step + step + step;
        var difference = Vector<ulong>.Zero;
        for (var i = 0; i + 3 < words.Length; i += 4)
        {
            difference |= (words[i] ^ v0) | (words[i + 1] ^ v1) | (words[i + 2] ^ v2) | (words[i + 3] ^ v3);
            v0 += step4;
            v1 += step4;
            v2 += step4;
            v3 += step4;
        }

        return difference == Vector<ulong>.Zero;
    }

    /// <summary>The first two 512-bit vectors of <paramref name="token"/>'s page and the step from a pair to the next.</summary>
    private static (Vector512<ulong> First, Vector512<ulong> Second, Vector512<ulong> Step) Start512(ulong token)
    {
        var first = Vector512.CreateSequence(Spread(token), Stride);
        var step = Vector512.Create((ulong)Vector512<ulong>.Count * Stride);
        return (first, first + step, step + step);
    }

    /// <summary><see cref="Fill"/> with 512-bit vectors (the same words: word i is Spread(token) + i * Stride at any width).</summary>
    private static void Fill512(Span<byte> page, ulong token)
    {
        var words = MemoryMarshal.Cast<byte, Vector512<ulong>>(page);
        var (v0, v1, step2) = Start512(token);
        for (var i = 0; i + 1 < words.Length; i += 2)
        {
            words[i] = v0;
            words[i + 1] = v1;
            v0 += step2;
            v1 += step2;
        }
    }

    /// <summary><see cref="Matches"/> with 512-bit vectors, for a token other than Zero and Unknown.</summary>
    private static bool Matches512(ReadOnlySpan<byte> page, ulong token)
    {
        var words = MemoryMarshal.Cast<byte, Vector512<ulong>>(page);
        var (v0, v1, step2) = Start512(token);
        var difference = Vector512<ulong>.Zero;
        for (var i = 0; i + 1 < words.Length; i += 2)
        {
            difference |= (words[i] ^ v0) | (words[i + 1] ^ v1);
            v0 += step2;
            v1 += step2;
        }

        return difference == Vector512<ulong>.Zero;
    }

    /// <summary>
    /// SplitMix64's step and finaliser: a bijection on 64-bit values. Word i of a token's page is
    /// Spread(token) + i * Stride, so pages of distinct tokens differ by the same non-zero amount in every word.
    /// </summary>
    private static ulong Spread(ulong value)
    {
        var z = value + Stride;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>
    /// True when the first 64 bytes of <paramref name="page"/> are those of <paramref name="token"/>'s page: a
    /// cheap check before a page is overwritten (the store loads that cache line anyway). Pages of
    /// different tokens differ in every word, so this catches a wrong, stale or zeroed page.
    /// </summary>
    public static bool StartMatches(ReadOnlySpan<byte> page, ulong token)
    {
        CheckSize(page.Length);
        if (token == Unknown)
        {
            return true;
        }

        var start = Spread(token);
        if (Vector512.IsHardwareAccelerated)
        {
            // The first 64 bytes are one vector: word i is start + i * Stride (zero for the zero page).
            var expected = token == Zero ? Vector512<ulong>.Zero : Vector512.CreateSequence(start, Stride);
            return MemoryMarshal.Read<Vector512<ulong>>(page) == expected;
        }

        var words = MemoryMarshal.Cast<byte, ulong>(page[..StartBytes]);
        for (var i = 0; i < words.Length; i++)
        {
            var expected = token == Zero ? 0 : start + ((ulong)i * Stride);
            if (words[i] != expected)
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckSize(int length)
    {
        if (length != PageGeometry.PageSizeBytes)
        {
            throw new ArgumentException($"A page is {PageGeometry.PageSizeBytes} bytes, not {length}.", nameof(length));
        }
    }
}
