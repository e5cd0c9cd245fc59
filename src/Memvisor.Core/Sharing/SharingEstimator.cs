/*
 * What content-based page sharing would save on given memory (paper §4; `memvisor scan`).
 *
 * Problem. Before overcommitting a host, a capacity planner wants to know how much of the memory it
 * runs today is duplicate: zero pages, the same libraries in many processes, the same data in many
 * dumps. The estimator answers by doing what the host does, on pages that are not a VM's.
 *
 * The walk, exactly as the host's scanner: each page of each source is hashed (a salted 64-bit key)
 * and matched against the one global PageShareTable through ShareMatcher.
 *  - no match: the page becomes a hint frame naming (source, page index), like (VM, PPN);
 *  - a hint matches: the hinted page is read again from its source and hashed again (changed or gone:
 *    the hint is stale), then compared in full; if equal, its bytes are copied once into the
 *    estimator's own page store (the "machine page") and a shared frame with reference count 2
 *    replaces the hint;
 *  - a shared frame matches: the page is compared in full with the stored copy; if equal, the frame's
 *    reference count grows.
 * Hash matches with different bytes are collisions and are never shared, whatever the hasher.
 *
 * Salting (ESXi since 2014, `Mem.ShareForceSalting`): with one salt for all sources, pages are shared
 * across sources (the paper's behaviour); with a salt per source, only within a source; with
 * UniformPagesAcrossVms, all-0x00 and all-0xFF pages across sources and every other page only within
 * its source (ShareSalting decides, as in the memory manager).
 *
 * Attribution. A shared frame with reference count r saves r - 1 pages. The page that finds an existing
 * twin (hint or shared frame) is credited with one saved page, for its own source; the page kept as the
 * frame's copy saves nothing. The per-source saved pages therefore add up to the total, but depend on
 * the order of the sources: the first source to hold a content keeps it, later ones save. Sharing pages
 * and distinct frames per source do not depend on the order.
 *
 * Data structures. The table holds at most one frame per page fed (a page adds a hint or joins a
 * frame; a hint match swaps a hint for a shared frame), so it is sized by the total of the sources'
 * page counts. Shared pages live in chunks of a page store addressed by MPN; per MPN the estimator
 * keeps the salt group and the last source that counted the frame. The hot loop reads pages in
 * batches into one reused buffer and allocates nothing per page. A large source whose reads may run
 * on several threads (IScanPageSource.ConcurrentReads) is read, zero-checked and hashed ahead by one
 * worker thread per core (ScanReadAhead) while this one walks the table in page order: the batches
 * are the same with or without workers, so the counts are the same.
 */
using System.Diagnostics;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>Options of a <see cref="SharingEstimator"/> run.</summary>
public sealed record SharingEstimatorOptions
{
    /// <summary>One salt for all sources (they share with each other), a salt per source (each source is a VM), or a salt per source except for uniform pages.</summary>
    public ShareSaltMode SaltMode { get; init; } = ShareSaltMode.SingleSalt;

    /// <summary>Share only pages that are all zero (the policy Windows applies across security domains).</summary>
    public bool ZeroPagesOnly { get; init; }

    /// <summary>The content hash that keys the table.</summary>
    public IPageHasher Hasher { get; init; } = XxHash3PageHasher.Instance;
}

/// <summary>How far a <see cref="SharingEstimator"/> run has come.</summary>
/// <param name="SourceIndex">The source being scanned.</param>
/// <param name="SourcePagesDone">Pages of that source done (scanned or found unreadable).</param>
/// <param name="PagesDone">Pages of all sources done.</param>
/// <param name="PageCount">Pages of all sources.</param>
public readonly record struct ScanProgress(int SourceIndex, long SourcePagesDone, long PagesDone, long PageCount);

/// <summary>What sharing would save on one source, or (as <see cref="SharingEstimate.Total"/>) on all.</summary>
public sealed record SourceSharing
{
    /// <summary>The source's name, or "total".</summary>
    public required string Name { get; init; }

    /// <summary>Pages the source offered.</summary>
    public long PagesOffered { get; init; }

    /// <summary>Pages read and run through the table.</summary>
    public long PagesScanned { get; init; }

    /// <summary>Scanned pages whose bytes are all zero.</summary>
    public long ZeroPages { get; init; }

    /// <summary>Pages that map a shared frame at the end of the run.</summary>
    public long SharingPages { get; init; }

    /// <summary>Distinct shared frames the source's pages map (in the total: distinct frames overall).</summary>
    public long SharedFrames { get; init; }

    /// <summary>Pages saved: the source's pages that found an existing twin (see the attribution note on <see cref="SharingEstimator"/>).</summary>
    public long PagesSaved { get; init; }

    /// <summary><see cref="PagesSaved"/> in bytes.</summary>
    public long BytesSaved => PagesSaved * PageGeometry.PageSizeBytes;

    /// <summary>Pages that could not be read.</summary>
    public long UnreadablePages { get; init; }

    /// <summary>Runs of consecutive unreadable pages.</summary>
    public long UnreadableRanges { get; init; }

    /// <summary>Pages not read because the source went away during the scan (a process exited).</summary>
    public long VanishedPages { get; init; }

    /// <summary>Hints found stale (the hinted page changed or could not be read again) while scanning this source.</summary>
    public long StaleHints { get; init; }

    /// <summary>Hash matches whose bytes differed, while scanning this source.</summary>
    public long Collisions { get; init; }

    /// <summary>What the source left out (in the total: sums).</summary>
    public ScanSourceFacts Facts { get; init; }
}

/// <summary>The result of a <see cref="SharingEstimator"/> run.</summary>
public sealed record SharingEstimate
{
    /// <summary>One row per source, in the order scanned.</summary>
    public required IReadOnlyList<SourceSharing> Sources { get; init; }

    /// <summary>All sources together.</summary>
    public required SourceSharing Total { get; init; }

    /// <summary>One salt for all sources, or one per source.</summary>
    public ShareSaltMode SaltMode { get; init; }

    /// <summary>Only zero pages were shared.</summary>
    public bool ZeroPagesOnly { get; init; }

    /// <summary>Full page comparisons performed.</summary>
    public long FullCompares { get; init; }

    /// <summary>Scanned pages left as hints: they matched nothing (in zero-only mode, only zero pages count).</summary>
    public long HintPages { get; init; }

    /// <summary>Bytes of the estimator's share table (frames, buckets, overflow), sized for every page fed.</summary>
    public long TableBytes { get; init; }
}

/// <summary>Runs pages of <see cref="IScanPageSource"/>s through the sharing engine and counts what sharing would save.</summary>
public static class SharingEstimator
{
    /// <summary>Pages read from a source per call.</summary>
    public const int BatchPages = 64;

    /// <summary>At most this many sources (a hint frame keeps a 16-bit VM id).</summary>
    public const int MaxSources = ushort.MaxValue + 1;

    /// <summary>
    /// Scans every page of every source, one source after another in list order, and returns the
    /// counts. Sources are read again (for hints) until the run ends.
    /// </summary>
    public static SharingEstimate Run(
        IReadOnlyList<IScanPageSource> sources,
        SharingEstimatorOptions? options = null,
        IProgress<ScanProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sources);
        return new Engine(sources, options ?? new SharingEstimatorOptions()).Run(progress, cancellationToken);
    }

    private sealed class SourceCounters
    {
        public ShareMatchCounters Match;
        public long PagesScanned;
        public long ZeroPages;
        public long SharingPages;
        public long SharedFrames;
        public long PagesSaved;
        public long UnreadablePages;
        public long UnreadableRanges;
        public long VanishedPages;
    }

    private struct StoredFrame
    {
        public ulong Salt;
        public int LastSourceCounted;

        // The copy is all zero bytes (the page it was copied from passed the zero check).
        public bool Zero;
    }

    private sealed class Engine : IShareContentSource
    {
        private const int PageSize = PageGeometry.PageSizeBytes;
        private const int StoreChunkPages = 256;
        private const long ProgressStepPages = 4096;
        private const int ReadAheadBatchesPerWorker = 4;

        // Worker threads reading ahead: one per core, up to this many.
        private const int MaxReadAheadWorkers = 4;

        // A source read ahead on a second thread has at least this many pages (a thread per small process costs more than it saves).
        private const long MinReadAheadPages = 16 * BatchPages;

        private readonly IReadOnlyList<IScanPageSource> _sources;
        private readonly SharingEstimatorOptions _options;
        private readonly IPageHasher _hasher;
        private readonly SourceCounters[] _counters;
        private readonly PageShareTable _table;
        private readonly long _totalPages;
        private readonly ReadAheadBatch _batch = new(BatchPages);
        private readonly byte[] _hintPage = new byte[PageSize];
        private readonly List<byte[]> _storeChunks = [];
        private readonly PageKeyer _keyer;
        private ReadAheadBatch[]? _ring;
        private StoredFrame[] _stored = new StoredFrame[StoreChunkPages];
        private uint _storedCount;
        private ulong _currentSalt;

        // The page being matched: its batch's bytes, its offset there, and whether it is all zero.
        private byte[] _currentBytes = [];
        private int _currentOffset;
        private bool _currentZero;

        public Engine(IReadOnlyList<IScanPageSource> sources, SharingEstimatorOptions options)
        {
            ArgumentNullException.ThrowIfNull(options.Hasher, nameof(options));
            if (sources.Count > MaxSources)
            {
                throw new ArgumentException($"One estimate takes at most {MaxSources} sources; {sources.Count} were given.", nameof(sources));
            }

            _sources = sources;
            _options = options;
            _hasher = options.Hasher;
            _keyer = new PageKeyer(options.Hasher, options.SaltMode, options.ZeroPagesOnly);
            _counters = new SourceCounters[sources.Count];
            for (var i = 0; i < sources.Count; i++)
            {
                var source = sources[i] ?? throw new ArgumentException($"Source {i} is null.", nameof(sources));
                if (source.PageCount is < 0 or > (long)uint.MaxValue + 1)
                {
                    throw new ArgumentException($"Source '{source.Name}' offers {source.PageCount} pages; a source holds 0 to 2^32 pages.", nameof(sources));
                }

                _counters[i] = new SourceCounters();
                _totalPages += source.PageCount;
            }

            // One frame per page fed at most. In zero-only mode each salt group holds one zero frame
            // (hint or shared) at a time, plus one being replaced.
            var saltGroups = options.SaltMode == ShareSaltMode.SingleSalt ? 1 : sources.Count;
            var frames = options.ZeroPagesOnly ? Math.Min(_totalPages, 2L * saltGroups) : _totalPages;
            try
            {
                _table = new PageShareTable((int)Math.Clamp(frames, 1, int.MaxValue));
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ArgumentException($"The sources offer {_totalPages} pages, more than one share table can index.", nameof(sources), e);
            }
        }

        public SharingEstimate Run(IProgress<ScanProgress>? progress, CancellationToken cancellationToken)
        {
            long pagesBefore = 0;
            for (var s = 0; s < _sources.Count; s++)
            {
                ScanSource(s, pagesBefore, progress, cancellationToken);
                pagesBefore += _sources[s].PageCount;
            }

            return Result();
        }

        private void ScanSource(int s, long pagesBefore, IProgress<ScanProgress>? progress, CancellationToken cancellationToken)
        {
            var source = _sources[s];
            var counters = _counters[s];
            var pageCount = source.PageCount;
            var salt = SaltOf(s);
            var lastReported = 0L;
            var previousUnreadable = false;
            progress?.Report(new ScanProgress(s, 0, pagesBefore, _totalPages));
            var workers = Math.Min(Environment.ProcessorCount, MaxReadAheadWorkers);
            using var readAhead = source.ConcurrentReads && pageCount >= MinReadAheadPages && workers > 1
                ? new ScanReadAhead(_ring ??= [.. Enumerable.Range(0, ReadAheadBatchesPerWorker * workers).Select(_ => new ReadAheadBatch(BatchPages))], workers, source, _keyer, salt)
                : null;
            var index = 0L;
            for (var number = 0L; number * BatchPages < pageCount; number++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadAheadBatch batch;
                if (readAhead is null)
                {
                    batch = _batch;
                    batch.Fill(source, number * BatchPages, _keyer, salt);
                }
                else
                {
                    batch = readAhead.Take(number, cancellationToken);
                }

                var done = 0;
                foreach (var run in batch.Runs)
                {
                    if (run.Kind == PageRunKind.SourceGone)
                    {
                        counters.VanishedPages += pageCount - index;
                        progress?.Report(new ScanProgress(s, pageCount, pagesBefore + pageCount, _totalPages));
                        return;
                    }

                    if (run.Readable)
                    {
                        for (var i = done; i < done + run.Count; i++)
                        {
                            ScanPage(s, index + i - done, batch.Bytes, i * PageSize, batch.Zero[i], batch.Salts[i], batch.Keys[i]);
                        }
                    }
                    else
                    {
                        counters.UnreadablePages += run.Count;
                        counters.UnreadableRanges += previousUnreadable ? 0 : 1;
                    }

                    previousUnreadable = !run.Readable;
                    index += run.Count;
                    done += run.Count;
                }

                if (batch.Malformed)
                {
                    throw new InvalidOperationException($"Source '{source.Name}' answered a read of {batch.MalformedWant} pages at page {batch.MalformedAt} with a run of {batch.MalformedRun.Count} pages.");
                }

                readAhead?.Release(number);
                if (index - lastReported >= ProgressStepPages || index == pageCount)
                {
                    lastReported = index;
                    progress?.Report(new ScanProgress(s, index, pagesBefore + index, _totalPages));
                }
            }
        }

        private void ScanPage(int s, long index, byte[] bytes, int offset, bool zero, ulong salt, ulong key)
        {
            var page = bytes.AsSpan(offset, PageSize);
            var counters = _counters[s];
            counters.PagesScanned++;
            if (zero)
            {
                counters.ZeroPages++;
            }
            else if (_options.ZeroPagesOnly)
            {
                return;
            }

            (_currentSalt, _currentBytes, _currentOffset, _currentZero) = (salt, bytes, offset, zero);
            var match = ShareMatcher.Find(_table, key, page, this, ref counters.Match);
            switch (match.Kind)
            {
                case FrameKind.Shared:
                    {
                        _table.SetRefCount(match.Frame, _table.RefCount(match.Frame) + 1);
                        counters.SharingPages++;
                        counters.PagesSaved++;
                        ref var stored = ref _stored[_table.SharedMpn(match.Frame).Value];
                        if (stored.LastSourceCounted != s)
                        {
                            stored.LastSourceCounted = s;
                            counters.SharedFrames++;
                        }

                        break;
                    }

                case FrameKind.Hint:
                    {
                        // The hinted page equals this one: keep one copy, as the host keeps one machine page.
                        var owner = _table.HintVm(match.Frame).Value;
                        _table.Remove(match.Frame);
                        _table.AddShared(key, Store(page, s, _currentSalt), 2);
                        counters.SharingPages++;
                        counters.PagesSaved++;
                        counters.SharedFrames++;
                        _counters[owner].SharingPages++;
                        if (owner != s)
                        {
                            // The owner's scan is over (sources are scanned one after another), so it
                            // cannot meet this frame again: count it for the owner now.
                            _counters[owner].SharedFrames++;
                        }

                        break;
                    }

                default:
                    _table.AddHint(key, new VmId((ushort)s), new Ppn((uint)index));
                    break;
            }
        }

        private Mpn Store(ReadOnlySpan<byte> page, int s, ulong salt)
        {
            var mpn = _storedCount++;
            var chunk = (int)(mpn / StoreChunkPages);
            if (chunk == _storeChunks.Count)
            {
                _storeChunks.Add(new byte[StoreChunkPages * PageSize]);
            }

            if (mpn == _stored.Length)
            {
                Array.Resize(ref _stored, _stored.Length * 2);
            }

            page.CopyTo(StoredPage(mpn));
            _stored[mpn] = new StoredFrame { Salt = salt, LastSourceCounted = s, Zero = _currentZero };
            return new Mpn(mpn);
        }

        private Span<byte> StoredPage(uint mpn) =>
            _storeChunks[(int)(mpn / StoreChunkPages)].AsSpan((int)(mpn % StoreChunkPages) * PageSize, PageSize);

        /// <summary>The own salt of source <paramref name="s"/> (ShareSalting may give a page the common salt instead).</summary>
        private ulong SaltOf(int s) => _options.SaltMode == ShareSaltMode.SingleSalt ? ShareSalting.CommonSalt : (ulong)s + 1;

        ReadOnlySpan<byte> IShareContentSource.SharedPage(Mpn mpn)
        {
            ref readonly var stored = ref _stored[mpn.Value];
            if (stored.Salt != _currentSalt)
            {
                // A frame of another salt is not this page's to share, even if 48 hash bits agree: an empty
                // span never compares equal, so the walk counts it as a collision and goes on.
                return [];
            }

            // A zero page and a zero frame's copy are both all zero bytes, so they are equal: the walk's
            // full compare is handed the page itself, which it answers without reading 8 KiB again.
            return _currentZero && stored.Zero ? _currentBytes.AsSpan(_currentOffset, PageSize) : StoredPage(mpn.Value);
        }

        bool IShareContentSource.TryBeginHintCompare(VmId vm, Ppn ppn, out ReadOnlySpan<byte> content, out ulong key)
        {
            var source = _sources[vm.Value];
            var run = source.ReadPages(ppn.Value, _hintPage);
            if (!run.Readable)
            {
                content = default;
                key = 0;
                return false;
            }

            if (run.Count != 1)
            {
                throw new InvalidOperationException($"Source '{source.Name}' answered a read of one page at page {ppn.Value} with a run of {run.Count} pages.");
            }

            content = _hintPage;
            key = ShareMatcher.SaltedKey(_hasher.Hash(_hintPage), ShareSalting.SaltOf(_options.SaltMode, SaltOf(vm.Value), _hintPage));
            return true;
        }

        void IShareContentSource.EndHintCompare(VmId vm, Ppn ppn)
        {
            // Scanned pages are only read, never protected: nothing to release.
        }

        void IShareContentSource.HintDropped(VmId vm, Ppn ppn)
        {
            // The page keeps no record of its hint.
        }

        private SharingEstimate Result()
        {
            var rows = new SourceSharing[_sources.Count];
            for (var s = 0; s < rows.Length; s++)
            {
                var c = _counters[s];
                rows[s] = new SourceSharing
                {
                    Name = _sources[s].Name,
                    PagesOffered = _sources[s].PageCount,
                    PagesScanned = c.PagesScanned,
                    ZeroPages = c.ZeroPages,
                    SharingPages = c.SharingPages,
                    SharedFrames = c.SharedFrames,
                    PagesSaved = c.PagesSaved,
                    UnreadablePages = c.UnreadablePages,
                    UnreadableRanges = c.UnreadableRanges,
                    VanishedPages = c.VanishedPages,
                    StaleHints = c.Match.StaleHints,
                    Collisions = c.Match.Collisions,
                    Facts = _sources[s].Facts,
                };
            }

            var total = new SourceSharing
            {
                Name = "total",
                PagesOffered = _totalPages,
                PagesScanned = rows.Sum(r => r.PagesScanned),
                ZeroPages = rows.Sum(r => r.ZeroPages),
                SharingPages = rows.Sum(r => r.SharingPages),
                SharedFrames = _table.SharedCount,
                PagesSaved = rows.Sum(r => r.PagesSaved),
                UnreadablePages = rows.Sum(r => r.UnreadablePages),
                UnreadableRanges = rows.Sum(r => r.UnreadableRanges),
                VanishedPages = rows.Sum(r => r.VanishedPages),
                StaleHints = rows.Sum(r => r.StaleHints),
                Collisions = rows.Sum(r => r.Collisions),
                Facts = new ScanSourceFacts(
                    rows.Sum(r => r.Facts.NotResidentPages),
                    rows.Sum(r => r.Facts.SkippedRanges),
                    rows.Sum(r => r.Facts.PaddingBytes),
                    rows.Sum(r => r.Facts.AlreadySharedPages)),
            };
            Debug.Assert(total.PagesSaved == total.SharingPages - total.SharedFrames, "Every frame of r pages saves r - 1 pages.");
            return new SharingEstimate
            {
                Sources = rows,
                Total = total,
                SaltMode = _options.SaltMode,
                ZeroPagesOnly = _options.ZeroPagesOnly,
                FullCompares = _counters.Sum(c => c.Match.FullCompares),
                HintPages = _table.HintCount,
                TableBytes = _table.MetadataBytes,
            };
        }
    }
}
