using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Testing;

namespace Memvisor.Core.Tests.Scan;

/// <summary>
/// A source read ahead on a second thread (IScanPageSource.ConcurrentReads) gives the counts of a scan
/// on one thread: same pages, same order, same table walk.
/// </summary>
public sealed class ReadAheadTests
{
    [Theory]
    [InlineData(ShareSaltMode.SingleSalt, false)]
    [InlineData(ShareSaltMode.PerVm, false)]
    [InlineData(ShareSaltMode.UniformPagesAcrossVms, false)]
    [InlineData(ShareSaltMode.SingleSalt, true)]
    public void A_source_read_ahead_gives_the_counts_of_one_read_on_one_thread(ShareSaltMode saltMode, bool zeroOnly)
    {
        // Two sources of 5,000 pages (both over the read-ahead threshold): zero, all-0xFF, 40 repeated
        // contents, unique pages; runs of at most 37 pages; some unreadable pages, alone and in ranges.
        var options = new SharingEstimatorOptions { SaltMode = saltMode, ZeroPagesOnly = zeroOnly, Hasher = new TwoBitHasher() };
        var serial = Estimator.Run([Source("a", 1, concurrent: false), Source("b", 2, concurrent: false)], options);
        var ahead = Estimator.Run([Source("a", 1, concurrent: true), Source("b", 2, concurrent: true)], options);

        Assert.Equal(serial.Total, ahead.Total);
        Assert.Equal(serial.Sources, ahead.Sources);
        Assert.Equal(serial.FullCompares, ahead.FullCompares);
        Assert.Equal(serial.HintPages, ahead.HintPages);
        Assert.True(serial.Total.SharingPages > 0);

        // Each source: 6 single pages (i % 997 == 5: 5, 1002, ..., 4990), and the ranges 1200-1209 and 1270-1289, whole.
        Assert.All(ahead.Sources, s => Assert.Equal(6 + 10 + 20, s.UnreadablePages));
        Assert.All(ahead.Sources, s => Assert.Equal(8, s.UnreadableRanges));
    }

    [Fact]
    public void A_source_that_goes_away_while_read_ahead_counts_the_rest_as_vanished()
    {
        var serial = Estimator.Run([Source("a", 3, concurrent: false, goneFrom: 3000)]);
        var ahead = Estimator.Run([Source("a", 3, concurrent: true, goneFrom: 3000)]);

        Assert.Equal(serial.Total, ahead.Total);
        Assert.Equal(2000, ahead.Total.VanishedPages);
    }

    [Fact]
    public void An_error_on_the_read_ahead_thread_is_thrown_to_the_caller()
    {
        var source = Source("a", 4, concurrent: true, throwFrom: 2500);
        var e = Assert.Throws<IOException>(() => Estimator.Run([source]));
        Assert.StartsWith("read failed at 25", e.Message, StringComparison.Ordinal);
    }

    private static ConcurrentArraySource Source(string name, int seed, bool concurrent, long goneFrom = long.MaxValue, long throwFrom = long.MaxValue)
    {
        var random = new Random(seed);
        var repeated = Enumerable.Range(0, 40).Select(i => TestPages.Filled(1000 + i)).ToArray();
        var ones = Enumerable.Repeat((byte)0xFF, PageGeometry.PageSizeBytes).ToArray();
        var pages = new byte[5000][];
        for (var i = 0; i < pages.Length; i++)
        {
            pages[i] = random.Next(10) switch
            {
                0 or 1 => TestPages.Zero(),
                2 => ones,
                3 or 4 or 5 or 6 => repeated[random.Next(repeated.Length)],
                _ => TestPages.Filled((seed * 100_000) + i),
            };
        }

        // 1270-1289 crosses the boundary of the batches [1216, 1280) and [1280, 1344).
        var unreadable = Enumerable.Range(0, 5000).Where(i => i % 997 == 5 || (i >= 1200 && i < 1210) || (i >= 1270 && i < 1290)).Select(i => (long)i).ToHashSet();
        return new ConcurrentArraySource(name, pages, unreadable, concurrent, goneFrom, throwFrom);
    }

    /// <summary>An in-memory source that keeps no state per read, so it may be read from two threads.</summary>
    private sealed class ConcurrentArraySource(string name, byte[][] pages, HashSet<long> unreadable, bool concurrent, long goneFrom, long throwFrom) : IScanPageSource
    {
        public string Name => name;

        public long PageCount => pages.Length;

        public ScanSourceFacts Facts => default;

        public bool ConcurrentReads => concurrent;

        public PageRun ReadPages(long firstIndex, Span<byte> buffer)
        {
            if (firstIndex >= throwFrom)
            {
                throw new IOException($"read failed at {firstIndex}");
            }

            if (firstIndex >= goneFrom)
            {
                return PageRun.Gone;
            }

            if (unreadable.Contains(firstIndex))
            {
                // The whole unreadable range, even past the buffer (a source may say so).
                var end = firstIndex;
                while (unreadable.Contains(end))
                {
                    end++;
                }

                return PageRun.Unreadable((int)(end - firstIndex));
            }

            var count = 0;
            var most = Math.Min(buffer.Length / PageGeometry.PageSizeBytes, 37);
            for (var index = firstIndex; count < most && index < pages.Length && index < goneFrom && !unreadable.Contains(index); index++, count++)
            {
                pages[index].CopyTo(buffer.Slice(count * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes));
            }

            return PageRun.Read(count);
        }
    }
}
