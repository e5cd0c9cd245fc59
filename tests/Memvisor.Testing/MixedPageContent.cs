/*
 * A deterministic mix of page contents for sharing benchmarks and tests.
 *
 * Problem. Sharing throughput and savings depend on what is in memory. Benchmarks of Memvisor and of
 * Linux KSM must run on the same, reproducible content whose ideal outcome is known in advance: then
 * a run can be checked against the expectation and timed until it is reached.
 *
 * Data. Every page has a class: zero, a copy of one of D distinct "duplicate" contents, or unique.
 * The default mix is a quarter zero pages, half duplicates of 16 contents, a quarter unique pages.
 * Exact counts are laid out, then shuffled with a seeded generator; the class of each page is kept in
 * one byte (so at most 254 distinct duplicate contents), a quarter megabyte per GiB of pages.
 * Page bytes are never stored: Fill writes them from (seed, content) or (seed, page), and the first
 * eight bytes carry a tag and the content or page number, so no two different contents can be equal.
 */
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Util;

namespace Memvisor.Testing;

/// <summary>What a page of a <see cref="MixedPageContent"/> holds.</summary>
public enum PageContentKind : byte
{
    /// <summary>All zero bytes.</summary>
    Zero,

    /// <summary>A copy of one of the duplicate contents.</summary>
    Duplicate,

    /// <summary>Bytes no other page has.</summary>
    Unique,
}

/// <summary>The best sharing can do on some content.</summary>
/// <param name="SharedPages">Pages that back shared content after sharing (one per distinct content with copies).</param>
/// <param name="PagesMappingShared">Pages whose content has at least one other copy.</param>
/// <param name="PagesSaved">Pages freed: <paramref name="PagesMappingShared"/> minus <paramref name="SharedPages"/>.</param>
public readonly record struct SharingExpectation(long SharedPages, long PagesMappingShared, long PagesSaved);

/// <summary>A reproducible mix of zero, duplicate and unique pages with its ideal sharing outcome.</summary>
public sealed class MixedPageContent
{
    private const byte UniqueClass = byte.MaxValue;
    private const ulong DuplicateTag = 0xD0UL << 56;
    private const ulong UniqueTag = 0xE0UL << 56;
    private readonly byte[] _classOfPage;
    private readonly long[] _copiesOfContent;
    private readonly ulong _seed;

    /// <summary>
    /// Lays out <paramref name="pageCount"/> pages: <paramref name="zeroFraction"/> of them zero,
    /// <paramref name="duplicateFraction"/> copies of <paramref name="distinctDuplicates"/> contents
    /// (as evenly as the count allows), the rest unique, in an order fixed by <paramref name="seed"/>.
    /// </summary>
    public MixedPageContent(int pageCount, double zeroFraction = 0.25, double duplicateFraction = 0.5, int distinctDuplicates = 16, ulong seed = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pageCount);
        ArgumentOutOfRangeException.ThrowIfNegative(zeroFraction);
        ArgumentOutOfRangeException.ThrowIfNegative(duplicateFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(zeroFraction + duplicateFraction, 1.0);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(distinctDuplicates);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(distinctDuplicates, UniqueClass - 1);

        _seed = seed;
        ZeroPages = (long)Math.Floor(pageCount * zeroFraction);
        DuplicatePages = (long)Math.Floor(pageCount * duplicateFraction);
        UniquePages = pageCount - ZeroPages - DuplicatePages;
        DistinctDuplicates = distinctDuplicates;

        // Class 0 is the zero page, 1..D the duplicate contents, 255 unique.
        _classOfPage = new byte[pageCount];
        _copiesOfContent = new long[distinctDuplicates + 1];
        _copiesOfContent[0] = ZeroPages;
        var next = ZeroPages;
        for (var i = 0L; i < DuplicatePages; i++)
        {
            var content = (int)(i % distinctDuplicates) + 1;
            _classOfPage[next++] = (byte)content;
            _copiesOfContent[content]++;
        }

        _classOfPage.AsSpan((int)next).Fill(UniqueClass);
        var random = new DeterministicRandom(seed);
        for (var i = pageCount - 1; i > 0; i--)
        {
            var j = random.NextInt32(i + 1);
            (_classOfPage[i], _classOfPage[j]) = (_classOfPage[j], _classOfPage[i]);
        }
    }

    /// <summary>Pages in the mix.</summary>
    public int PageCount => _classOfPage.Length;

    /// <summary>Zero pages.</summary>
    public long ZeroPages { get; }

    /// <summary>Pages holding one of the duplicate contents.</summary>
    public long DuplicatePages { get; }

    /// <summary>Pages with unique content.</summary>
    public long UniquePages { get; }

    /// <summary>Distinct duplicate contents.</summary>
    public int DistinctDuplicates { get; }

    /// <summary>The kind of page <paramref name="page"/>.</summary>
    public PageContentKind KindOf(int page) => _classOfPage[page] switch
    {
        0 => PageContentKind.Zero,
        UniqueClass => PageContentKind.Unique,
        _ => PageContentKind.Duplicate,
    };

    /// <summary>The ideal outcome: every set of equal pages backed by one page.</summary>
    public SharingExpectation Expected() => ExpectedWithMaxSharing(long.MaxValue);

    /// <summary>
    /// The outcome when one backing page may serve at most <paramref name="maxPagesPerSharedPage"/>
    /// pages, as with Linux KSM's max_page_sharing: n copies then need ceil(n / max) backing pages.
    /// </summary>
    public SharingExpectation ExpectedWithMaxSharing(long maxPagesPerSharedPage)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPagesPerSharedPage, 2);
        long shared = 0, mapping = 0;
        foreach (var copies in _copiesOfContent)
        {
            if (copies >= 2)
            {
                shared += ((copies - 1) / maxPagesPerSharedPage) + 1;
                mapping += copies;
            }
        }

        return new SharingExpectation(shared, mapping, mapping - shared);
    }

    /// <summary>Writes the bytes of page <paramref name="page"/> into <paramref name="destination"/> (one page long).</summary>
    public void Fill(int page, Span<byte> destination)
    {
        if (destination.Length != PageGeometry.PageSizeBytes)
        {
            throw new ArgumentException($"A page is {PageGeometry.PageSizeBytes} bytes; got {destination.Length}.", nameof(destination));
        }

        var words = MemoryMarshal.Cast<byte, ulong>(destination);
        var cls = _classOfPage[page];
        switch (cls)
        {
            case 0:
                destination.Clear();
                break;
            case UniqueClass:
                FillWords(words, UniqueTag | (uint)page, (ulong)page + 0x1_0000_0000UL);
                break;
            default:
                FillWords(words, DuplicateTag | cls, cls);
                break;
        }
    }

    private void FillWords(Span<ulong> words, ulong tag, ulong stream)
    {
        // SplitMix64 over (seed, stream, index): fast, and different streams give unrelated words.
        var state = _seed ^ (stream * 0x9E3779B97F4A7C15UL);
        words[0] = tag;
        for (var i = 1; i < words.Length; i++)
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            words[i] = z ^ (z >> 31);
        }
    }
}
