using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;

namespace Memvisor.Testing;

/// <summary>
/// A scan source held in memory, for tests: pages given as arrays, some of which may be unreadable,
/// change after their first read, or vanish with the whole source.
/// </summary>
public sealed class ArrayPageSource(string name, IReadOnlyList<byte[]> pages) : IScanPageSource
{
    private readonly int[] _reads = new int[pages.Count];
    private bool _gone;

    public string Name => name;

    public long PageCount => pages.Count;

    public ScanSourceFacts Facts => default;

    /// <summary>Pages that cannot be read.</summary>
    public HashSet<long> Unreadable { get; } = [];

    /// <summary>Content a page has from its second read on (it was written after it was scanned).</summary>
    public Dictionary<long, byte[]> ChangedAfterFirstRead { get; } = [];

    /// <summary>Most pages one read returns (to exercise short runs).</summary>
    public int MaxRun { get; init; } = int.MaxValue;

    /// <summary>The source goes away when this page is first asked for (a process that exits); every read after fails.</summary>
    public long GoneFrom { get; init; } = long.MaxValue;

    /// <summary>Reads of page <paramref name="index"/> so far.</summary>
    public int ReadsOf(long index) => _reads[index];

    public PageRun ReadPages(long firstIndex, Span<byte> buffer)
    {
        _gone |= firstIndex >= GoneFrom;
        if (_gone)
        {
            return PageRun.Gone;
        }

        if (Unreadable.Contains(firstIndex))
        {
            return PageRun.Unreadable(1);
        }

        var count = 0;
        var most = Math.Min(buffer.Length / PageGeometry.PageSizeBytes, MaxRun);
        for (var index = firstIndex; count < most && index < pages.Count && index < GoneFrom && !Unreadable.Contains(index); index++, count++)
        {
            var content = _reads[index]++ > 0 && ChangedAfterFirstRead.TryGetValue(index, out var changed) ? changed : pages[(int)index];
            content.CopyTo(buffer.Slice(count * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes));
        }

        return PageRun.Read(count);
    }
}

/// <summary><see cref="SharingEstimator.Run"/> with the test's cancellation token.</summary>
public static class Estimator
{
    public static SharingEstimate Run(IReadOnlyList<IScanPageSource> sources, SharingEstimatorOptions? options = null, IProgress<ScanProgress>? progress = null) =>
        SharingEstimator.Run(sources, options, progress, TestContext.Current.CancellationToken);
}

/// <summary>Page contents for tests.</summary>
public static class TestPages
{
    public static byte[] Zero() => new byte[PageGeometry.PageSizeBytes];

    /// <summary>A page filled from <paramref name="seed"/>; different seeds give different pages.</summary>
    public static byte[] Filled(int seed)
    {
        var page = new byte[PageGeometry.PageSizeBytes];
        new Random(seed).NextBytes(page);
        page[0] = (byte)seed;
        page[1] = (byte)(seed >> 8);
        page[^1] |= 1; // never all zero
        return page;
    }

    /// <summary><paramref name="page"/> with only its last byte changed: equal to it in all but one byte.</summary>
    public static byte[] LastByteFlipped(byte[] page)
    {
        var copy = (byte[])page.Clone();
        copy[^1] ^= 0x80;
        return copy;
    }
}

/// <summary>A hasher with four values: many collisions, and many chains of frames.</summary>
public sealed class TwoBitHasher : IPageHasher
{
    public ulong Hash(ReadOnlySpan<byte> page) => (XxHash3PageHasher.Instance.Hash(page) & 3) * 0x9E37_79B9_7F4A_7C15UL;
}
