using CsCheck;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Testing;

namespace Memvisor.Core.Tests.Scan;

public sealed class SharingEstimatorTests
{
    private static readonly byte[] X = TestPages.Filled(1);
    private static readonly byte[] Y = TestPages.Filled(2);
    private static readonly byte[] Z = TestPages.Filled(3);
    private static readonly byte[] W = TestPages.Filled(4);

    [Fact]
    public void Known_sources_give_the_exact_counts()
    {
        // A: zero, zero, X, Y, X.  B: zero, Y, Z, W.
        var a = new ArrayPageSource("a", [TestPages.Zero(), TestPages.Zero(), X, Y, X]);
        var b = new ArrayPageSource("b", [TestPages.Zero(), Y, Z, W]);

        var estimate = Estimator.Run([a, b]);

        // A's two zero pages form the zero frame, its two X pages another; B's Y later joins A's Y.
        AssertCounts(estimate.Sources[0], scanned: 5, zero: 2, sharing: 5, frames: 3, saved: 2);
        AssertCounts(estimate.Sources[1], scanned: 4, zero: 1, sharing: 2, frames: 2, saved: 2);
        AssertCounts(estimate.Total, scanned: 9, zero: 3, sharing: 7, frames: 3, saved: 4);
        Assert.Equal(4 * PageGeometry.PageSizeBytes, estimate.Total.BytesSaved);
        Assert.Equal(2, estimate.HintPages); // Z and W matched nothing
        Assert.Equal(0, estimate.Total.Collisions);
        Assert.Equal(0, estimate.Total.StaleHints);
        Assert.Equal(["a", "b"], estimate.Sources.Select(s => s.Name));
    }

    [Fact]
    public void A_salt_per_source_shares_only_within_a_source()
    {
        var a = new ArrayPageSource("a", [TestPages.Zero(), TestPages.Zero(), X, Y, X]);
        var b = new ArrayPageSource("b", [TestPages.Zero(), Y, Z, W]);

        var estimate = Estimator.Run([a, b], new SharingEstimatorOptions { SaltMode = ShareSaltMode.PerVm });

        AssertCounts(estimate.Sources[0], scanned: 5, zero: 2, sharing: 4, frames: 2, saved: 2);
        AssertCounts(estimate.Sources[1], scanned: 4, zero: 1, sharing: 0, frames: 0, saved: 0);
        AssertCounts(estimate.Total, scanned: 9, zero: 3, sharing: 4, frames: 2, saved: 2);
        Assert.Equal(ShareSaltMode.PerVm, estimate.SaltMode);
    }

    [Fact]
    public void Identical_sources_share_everything_across_but_nothing_within_when_salted()
    {
        ArrayPageSource Source(string name) => new(name, [X, Y, Z]);

        var across = Estimator.Run([Source("a"), Source("b")]);
        var within = Estimator.Run([Source("a"), Source("b")], new SharingEstimatorOptions { SaltMode = ShareSaltMode.PerVm });

        Assert.Equal(3, across.Total.PagesSaved);
        Assert.Equal(0, within.Total.PagesSaved);
        Assert.Equal(0, within.Total.SharingPages);
    }

    [Fact]
    public void Zero_only_mode_shares_zero_pages_and_nothing_else()
    {
        var a = new ArrayPageSource("a", [TestPages.Zero(), X, X, TestPages.Zero(), Y]);
        var b = new ArrayPageSource("b", [TestPages.Zero(), X]);

        var estimate = Estimator.Run([a, b], new SharingEstimatorOptions { ZeroPagesOnly = true });

        AssertCounts(estimate.Total, scanned: 7, zero: 3, sharing: 3, frames: 1, saved: 2);
        Assert.True(estimate.ZeroPagesOnly);
    }

    [Fact]
    public void A_page_that_changed_since_its_hint_is_a_stale_hint_and_is_not_shared()
    {
        // A's page 0 was X when scanned, and is W when B's X asks for it again.
        var a = new ArrayPageSource("a", [X]);
        a.ChangedAfterFirstRead[0] = W;
        var b = new ArrayPageSource("b", [X, X]);

        var estimate = Estimator.Run([a, b]);

        Assert.Equal(2, a.ReadsOf(0)); // scanned, then read again for the hint
        Assert.Equal(1, estimate.Sources[1].StaleHints); // found while scanning b
        Assert.Equal(0, estimate.Sources[0].SharingPages);
        AssertCounts(estimate.Sources[1], scanned: 2, zero: 0, sharing: 2, frames: 1, saved: 1); // b's X pages share with each other
        Assert.Equal(0, estimate.Total.Collisions);
    }

    [Fact]
    public void A_hinted_page_that_can_no_longer_be_read_is_a_stale_hint()
    {
        var a = new ArrayPageSource("a", [X, Y]);
        var b = new ArrayPageSource("b", [Y, X]);

        // a goes away after its own scan: b's pages find only stale hints.
        var gone = new GoneAfterScan(a);
        var estimate = Estimator.Run([gone, b]);

        Assert.Equal(2, estimate.Sources[1].StaleHints);
        Assert.Equal(0, estimate.Total.SharingPages);
        Assert.Equal(2, estimate.HintPages); // b's two pages; a's two hints were removed
    }

    [Fact]
    public void Unreadable_pages_are_counted_in_ranges_and_skipped()
    {
        var a = new ArrayPageSource("a", [X, X, Y, Y, Z, X, W]) { MaxRun = 2 };
        a.Unreadable.UnionWith([2, 3, 5]);

        var estimate = Estimator.Run([a]);

        var row = estimate.Sources[0];
        Assert.Equal(3, row.UnreadablePages);
        Assert.Equal(2, row.UnreadableRanges);
        AssertCounts(row, scanned: 4, zero: 0, sharing: 2, frames: 1, saved: 1);
    }

    [Fact]
    public void A_source_that_vanishes_mid_scan_counts_its_remaining_pages_as_vanished()
    {
        var a = new ArrayPageSource("a", [X, X, Y, Y, Z]) { GoneFrom = 3 };
        var b = new ArrayPageSource("b", [Y]);

        var estimate = Estimator.Run([a, b]);

        Assert.Equal(2, estimate.Sources[0].VanishedPages);
        Assert.Equal(0, estimate.Sources[0].UnreadablePages);
        Assert.Equal(3, estimate.Sources[0].PagesScanned);
        Assert.Equal(1, estimate.Sources[1].StaleHints); // a's Y hint can no longer be read
        Assert.Equal(0, estimate.Sources[1].SharingPages);
    }

    [Fact]
    public void Pages_that_differ_in_their_last_byte_are_never_shared_under_a_constant_hash()
    {
        var almostX = TestPages.LastByteFlipped(X);
        var a = new ArrayPageSource("a", [X, almostX, X, almostX, TestPages.Zero()]);

        var estimate = Estimator.Run([a], new SharingEstimatorOptions { Hasher = new ConstantHasher() });

        AssertCounts(estimate.Total, scanned: 5, zero: 1, sharing: 4, frames: 2, saved: 2);
        Assert.True(estimate.Total.Collisions > 0);
    }

    [Fact]
    public void A_page_zero_but_for_its_last_byte_never_shares_with_the_zero_frame_under_a_constant_hash()
    {
        // Zero pages are keyed without hashing and matched against a zero frame without reading it
        // again; a page that is zero in all but one byte must still be compared in full, both ways.
        var almostZero = TestPages.LastByteFlipped(TestPages.Zero());
        var a = new ArrayPageSource("a", [TestPages.Zero(), TestPages.Zero(), almostZero, TestPages.Zero(), almostZero]);
        var b = new ArrayPageSource("b", [almostZero, almostZero, TestPages.Zero()]);

        var estimate = Estimator.Run([b, a], new SharingEstimatorOptions { Hasher = new ConstantHasher() });

        AssertCounts(estimate.Total, scanned: 8, zero: 4, sharing: 8, frames: 2, saved: 6);
        Assert.True(estimate.Total.Collisions > 0);
    }

    [Fact]
    public void Sources_larger_than_a_batch_are_read_in_runs_and_matched_across_runs()
    {
        var pages = Enumerable.Range(0, 5 * SharingEstimator.BatchPages).Select(i => TestPages.Filled(i % 50)).ToList();

        var estimate = Estimator.Run([new ArrayPageSource("a", pages)]);

        Assert.Equal(pages.Count, estimate.Total.PagesScanned);
        Assert.Equal(50, estimate.Total.SharedFrames);
        Assert.Equal(pages.Count - 50, estimate.Total.PagesSaved);
    }

    [Fact]
    public void Progress_reaches_every_page()
    {
        var a = new ArrayPageSource("a", [X, Y]);
        var b = new ArrayPageSource("b", [Z]);
        var reports = new List<ScanProgress>();

        Estimator.Run([a, b], progress: new ListProgress(reports));

        Assert.Equal(new ScanProgress(1, 1, 3, 3), reports[^1]);
        Assert.Contains(new ScanProgress(0, 2, 2, 3), reports);
    }

    [Fact]
    public void No_sources_give_an_empty_estimate()
    {
        var estimate = Estimator.Run([]);

        Assert.Empty(estimate.Sources);
        AssertCounts(estimate.Total, scanned: 0, zero: 0, sharing: 0, frames: 0, saved: 0);
    }

    [Fact]
    public void A_source_answering_an_oversized_run_is_reported()
    {
        var liar = new LyingSource();

        var error = Assert.Throws<InvalidOperationException>(() => Estimator.Run([liar]));

        Assert.Contains("liar", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("two-bit")]
    [InlineData("xxhash3")]
    public void Counts_equal_the_truth_computed_from_contents_whatever_the_hasher(string hasherName)
    {
        IPageHasher hasher = hasherName switch
        {
            "constant" => new ConstantHasher(),
            "two-bit" => new TwoBitHasher(),
            _ => XxHash3PageHasher.Instance,
        };

        // A palette of contents, two of which differ from others in one byte only.
        var palette = new[] { TestPages.Zero(), X, Y, TestPages.LastByteFlipped(X), Z, TestPages.LastByteFlipped(Z) };
        var gen =
            from scope in Gen.Enum<ShareSaltMode>()
            from zeroOnly in Gen.Bool
            from maxRun in Gen.Int[1, 80]
            from sources in Gen.Int[0, palette.Length - 1].Array[0, 90].Array[1, 4]
            select (scope, zeroOnly, maxRun, sources);

        gen.Sample(
            c =>
            {
                var (scope, zeroOnly, maxRun, sources) = c;
                var scanSources = sources
                    .Select((ids, s) => new ArrayPageSource($"s{s}", ids.Select(id => palette[id]).ToList()) { MaxRun = maxRun })
                    .ToArray();

                var estimate = Estimator.Run(scanSources, new SharingEstimatorOptions { SaltMode = scope, ZeroPagesOnly = zeroOnly, Hasher = hasher });

                var truth = Truth(sources, scope, zeroOnly ? 0 : null);
                for (var s = 0; s < sources.Length; s++)
                {
                    var row = estimate.Sources[s];
                    Assert.Equal(truth.Sharing[s], row.SharingPages);
                    Assert.Equal(truth.Frames[s], row.SharedFrames);
                    Assert.Equal(truth.Saved[s], row.PagesSaved);
                    Assert.Equal(sources[s].Length, row.PagesScanned);
                    Assert.Equal(sources[s].Count(id => id == 0), row.ZeroPages);
                }

                Assert.Equal(truth.Sharing.Sum(), estimate.Total.SharingPages);
                Assert.Equal(truth.TotalFrames, estimate.Total.SharedFrames);
                Assert.Equal(truth.Saved.Sum(), estimate.Total.PagesSaved);
                Assert.Equal(0, estimate.Total.StaleHints);
            },
            iter: 150);
    }

    /// <summary>
    /// What sharing must find, from the contents alone: pages of equal content (and equal salt) form a
    /// group; a group of r >= 2 pages is one frame that saves r - 1 pages, credited to every page after
    /// the group's first in scan order.
    /// </summary>
    private static (long[] Sharing, long[] Frames, long[] Saved, long TotalFrames) Truth(int[][] sources, ShareSaltMode scope, int? onlyContent)
    {
        var groupSize = new Dictionary<(int Salt, int Content), int>();
        foreach (var (ids, s) in sources.Select((ids, s) => (ids, s)))
        {
            foreach (var id in ids.Where(id => onlyContent is null || id == onlyContent))
            {
                var key = (SaltGroup(scope, s, id), id);
                groupSize[key] = groupSize.GetValueOrDefault(key) + 1;
            }
        }

        var sharing = new long[sources.Length];
        var frames = new long[sources.Length];
        var saved = new long[sources.Length];
        var seen = new HashSet<(int, int)>();
        for (var s = 0; s < sources.Length; s++)
        {
            var framesHere = new HashSet<(int, int)>();
            foreach (var id in sources[s].Where(id => onlyContent is null || id == onlyContent))
            {
                var key = (SaltGroup(scope, s, id), id);
                if (groupSize[key] < 2)
                {
                    continue;
                }

                sharing[s]++;
                framesHere.Add(key);
                saved[s] += seen.Add(key) ? 0 : 1;
            }

            frames[s] = framesHere.Count;
        }

        return (sharing, frames, saved, groupSize.Values.Count(r => r >= 2));
    }

    /// <summary>Which pages may share: all (one salt), a source's own (a salt per source), or a source's own plus zero pages (palette entry 0) across all.</summary>
    private static int SaltGroup(ShareSaltMode scope, int source, int content) =>
        scope == ShareSaltMode.SingleSalt || (scope == ShareSaltMode.UniformPagesAcrossVms && content == 0) ? -1 : source;

    private static void AssertCounts(SourceSharing row, long scanned, long zero, long sharing, long frames, long saved)
    {
        Assert.Equal(scanned, row.PagesScanned);
        Assert.Equal(zero, row.ZeroPages);
        Assert.Equal(sharing, row.SharingPages);
        Assert.Equal(frames, row.SharedFrames);
        Assert.Equal(saved, row.PagesSaved);
    }

    private sealed class ListProgress(List<ScanProgress> reports) : IProgress<ScanProgress>
    {
        public void Report(ScanProgress value) => reports.Add(value);
    }

    /// <summary>Readable while it is scanned; gone when its pages are asked for again.</summary>
    private sealed class GoneAfterScan(ArrayPageSource inner) : IScanPageSource
    {
        private long _next;

        public string Name => inner.Name;

        public long PageCount => inner.PageCount;

        public ScanSourceFacts Facts => default;

        public PageRun ReadPages(long firstIndex, Span<byte> buffer)
        {
            if (firstIndex < _next)
            {
                return PageRun.Gone;
            }

            var run = inner.ReadPages(firstIndex, buffer);
            _next = firstIndex + run.Count;
            return run;
        }
    }

    private sealed class LyingSource : IScanPageSource
    {
        public string Name => "liar";

        public long PageCount => 2;

        public ScanSourceFacts Facts => default;

        public PageRun ReadPages(long firstIndex, Span<byte> buffer) => PageRun.Read(5);
    }
}
