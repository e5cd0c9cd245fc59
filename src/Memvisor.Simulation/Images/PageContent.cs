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

        var words = MemoryMarshal.Cast<byte, Vector<ulong>>(page);
        var value = FirstVector(token);
        var step = new Vector<ulong>((ulong)Vector<ulong>.Count * Stride);
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = value;
            value += step;
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

        var words = MemoryMarshal.Cast<byte, Vector<ulong>>(page);
        var value = FirstVector(token);
        var step = new Vector<ulong>((ulong)Vector<ulong>.Count * Stride);
        var difference = Vector<ulong>.Zero;
        for (var i = 0; i < words.Length; i++)
        {
            difference |= words[i] ^ value;
            value += step;
        }

        return difference == Vector<ulong>.Zero;
    }

    /// <summary>SplitMix64's step and finaliser: a bijection on 64-bit values.</summary>
    private static ulong Spread(ulong value)
    {
        var z = value + Stride;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static Vector<ulong> FirstVector(ulong token)
    {
        // Word i of the page is start + i * Stride with start a bijection of the token: pages of distinct
        // tokens differ by the same non-zero amount in every word.
        var start = Spread(token);
        Span<ulong> lanes = stackalloc ulong[Vector<ulong>.Count];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = start + ((ulong)i * Stride);
        }

        return new Vector<ulong>(lanes);
    }

    private static void CheckSize(int length)
    {
        if (length != PageGeometry.PageSizeBytes)
        {
            throw new ArgumentException($"A page is {PageGeometry.PageSizeBytes} bytes, not {length}.", nameof(length));
        }
    }
}
