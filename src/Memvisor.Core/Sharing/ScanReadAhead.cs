/*
 * Reading ahead of the sharing estimator on the other cores (`memvisor scan`).
 *
 * Problem. Per page, the estimator reads the page (a copy out of the page cache or another process),
 * checks it for zero, hashes it, and then matches it against the share table. The table walk must run
 * in page order on one thread (the first page of a content keeps it; results depend only on the
 * input), but reading, the zero check and hashing depend on nothing but the page, and the copy is
 * the largest single cost.
 *
 * How. A source is cut into batches on a fixed grid: batch b holds pages [64 b, 64 b + 64). A batch is
 * filled by reading from its first page, and again from where each run ended, until the batch is full,
 * the source is gone or answers a malformed run; an unreadable run is cut at the batch's end (the next
 * batch asks the source again). So no batch depends on another, and for a source whose reads may run on
 * several threads at once (IScanPageSource.ConcurrentReads), one worker thread per core fills every
 * worker-count-th batch into its own slots of a ring, preparing each readable page's zero flag, salt and
 * salted key (PageKeyer). The estimator consumes the batches in page order and does only the table walk;
 * hints it checks are read again by the estimator's thread, meanwhile. A scan on one thread fills the
 * same batches the same way, so the counts do not depend on the number of threads. A worker stops after
 * a batch that ends the source (gone, malformed) and at the source's last batch, and when the estimator
 * stops early (cancellation, an error): Dispose tells the workers and waits for them. An exception in a
 * worker is thrown again by the estimator's thread when it reaches that batch. Nothing is allocated per page.
 */
using System.Runtime.ExceptionServices;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>
/// What the estimator needs to know of a page before the table walk: zero or not, its salt and its
/// salted key. A zero page's hash is the hash of the zero page, computed once (the hasher is a function
/// of the bytes alone), so zero pages are checked but not hashed.
/// </summary>
internal readonly struct PageKeyer(IPageHasher hasher, ShareSaltMode saltMode, bool zeroPagesOnly)
{
    private readonly ulong _zeroPageHash = hasher.Hash(new byte[PageGeometry.PageSizeBytes]);

    /// <summary>
    /// Prepares <paramref name="page"/> of a source whose own salt is <paramref name="ownSalt"/> (in
    /// zero-only mode a page that is not zero is not hashed: salt and key are 0).
    /// </summary>
    public void Prepare(ReadOnlySpan<byte> page, ulong ownSalt, out bool zero, out ulong salt, out ulong key)
    {
        zero = !page.ContainsAnyExcept((byte)0);
        if (zeroPagesOnly && !zero)
        {
            salt = 0;
            key = 0;
            return;
        }

        salt = ShareSalting.SaltOf(saltMode, ownSalt, page);
        key = ShareMatcher.SaltedKey(zero ? _zeroPageHash : hasher.Hash(page), salt);
    }
}

/// <summary>One batch of the grid: the pages, the runs the source answered, and each page's prepared key.</summary>
internal sealed class ReadAheadBatch
{
    private readonly PageRun[] _runs;

    public ReadAheadBatch(int batchPages)
    {
        Bytes = new byte[batchPages * PageGeometry.PageSizeBytes];
        Zero = new bool[batchPages];
        Salts = new ulong[batchPages];
        Keys = new ulong[batchPages];
        _runs = new PageRun[batchPages];
    }

    public byte[] Bytes { get; }

    public bool[] Zero { get; }

    public ulong[] Salts { get; }

    public ulong[] Keys { get; }

    /// <summary>The batch's first page.</summary>
    public long Index { get; private set; }

    /// <summary>The runs the source answered, in page order: readable and unreadable runs, the last one possibly <see cref="PageRun.Gone"/>.</summary>
    public ReadOnlySpan<PageRun> Runs => _runs.AsSpan(0, RunCount);

    /// <summary>Runs in <see cref="Runs"/>.</summary>
    public int RunCount { get; private set; }

    /// <summary>The source answered a run it may not (no pages, or more than asked for or than are left): the read is described by <see cref="MalformedAt"/>, <see cref="MalformedWant"/> and <see cref="MalformedRun"/>.</summary>
    public bool Malformed { get; private set; }

    /// <summary>The first page of the malformed read.</summary>
    public long MalformedAt { get; private set; }

    /// <summary>Pages the malformed read asked for.</summary>
    public int MalformedWant { get; private set; }

    /// <summary>What the source answered to the malformed read.</summary>
    public PageRun MalformedRun { get; private set; }

    /// <summary>The batch ends the source: it is gone, or answered a malformed run, or the worker failed.</summary>
    public bool EndsSource => Malformed || Error is not null || (RunCount > 0 && _runs[RunCount - 1].Kind == PageRunKind.SourceGone);

    /// <summary>What the worker threw instead of filling this batch.</summary>
    public ExceptionDispatchInfo? Error { get; set; }

    /// <summary>
    /// Fills the batch of <paramref name="source"/> that starts at page <paramref name="index"/>: reads
    /// from there and from where each run ended up to the batch's end, and prepares every page of the
    /// readable runs (zero flag, salt, salted key).
    /// </summary>
    public void Fill(IScanPageSource source, long index, PageKeyer keyer, ulong ownSalt)
    {
        const int pageSize = PageGeometry.PageSizeBytes;
        var pageCount = source.PageCount;
        var want = (int)Math.Min(_runs.Length, pageCount - index);
        Index = index;
        RunCount = 0;
        Malformed = false;
        Error = null;
        for (var done = 0; done < want;)
        {
            var run = source.ReadPages(index + done, Bytes.AsSpan(done * pageSize, (want - done) * pageSize));
            if (run.Kind == PageRunKind.SourceGone)
            {
                _runs[RunCount++] = PageRun.Gone;
                return;
            }

            if (run.Count < 1 || run.Count > (run.Readable ? want - done : pageCount - index - done))
            {
                (Malformed, MalformedAt, MalformedWant, MalformedRun) = (true, index + done, want - done, run);
                return;
            }

            if (run.Readable)
            {
                for (var i = done; i < done + run.Count; i++)
                {
                    keyer.Prepare(Bytes.AsSpan(i * pageSize, pageSize), ownSalt, out Zero[i], out Salts[i], out Keys[i]);
                }
            }
            else
            {
                // The pages after the batch are the next batch's to ask for.
                run = PageRun.Unreadable(Math.Min(run.Count, want - done));
            }

            _runs[RunCount++] = run;
            done += run.Count;
        }
    }
}

/// <summary>Worker threads filling one source's batches ahead of the estimator (see the file header).</summary>
internal sealed class ScanReadAhead : IDisposable
{
    private readonly ReadAheadBatch[] _ring;
    private readonly SemaphoreSlim[] _free;
    private readonly SemaphoreSlim[] _filled;
    private readonly IScanPageSource _source;
    private readonly PageKeyer _keyer;
    private readonly ulong _ownSalt;
    private readonly Thread[] _workers;
    private volatile bool _stop;

    /// <summary>
    /// Starts <paramref name="workers"/> threads filling the batches of <paramref name="source"/> into
    /// <paramref name="ring"/> (reused between sources; its length a multiple of the worker count).
    /// </summary>
    public ScanReadAhead(ReadAheadBatch[] ring, int workers, IScanPageSource source, PageKeyer keyer, ulong ownSalt)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(workers);
        if (ring.Length % workers != 0)
        {
            throw new ArgumentException($"A ring of {ring.Length} batches cannot be split among {workers} workers.", nameof(ring));
        }

        _ring = ring;
        _source = source;
        _keyer = keyer;
        _ownSalt = ownSalt;
        _free = [.. ring.Select(_ => new SemaphoreSlim(1))];
        _filled = [.. ring.Select(_ => new SemaphoreSlim(0))];
        _workers = new Thread[workers];
        for (var w = 0; w < workers; w++)
        {
            var first = w;
            _workers[w] = new Thread(() => Work(first)) { IsBackground = true, Name = "memvisor scan read-ahead" };
            _workers[w].Start();
        }
    }

    /// <summary>Batch <paramref name="number"/> of the grid; waits for its worker. Hand it back with <see cref="Release"/> before taking the next.</summary>
    public ReadAheadBatch Take(long number, CancellationToken cancellationToken)
    {
        var slot = (int)(number % _ring.Length);
        _filled[slot].Wait(cancellationToken);
        var batch = _ring[slot];
        batch.Error?.Throw();
        return batch;
    }

    /// <summary>Gives batch <paramref name="number"/>'s slot back to its worker.</summary>
    public void Release(long number) => _free[(int)(number % _ring.Length)].Release();

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop = true;
        foreach (var free in _free)
        {
            free.Release();
        }

        foreach (var worker in _workers)
        {
            worker.Join();
        }

        foreach (var semaphore in _free.Concat(_filled))
        {
            semaphore.Dispose();
        }
    }

    private void Work(int first)
    {
        var pageCount = _source.PageCount;
        for (var number = (long)first; number * SharingEstimator.BatchPages < pageCount; number += _workers.Length)
        {
            var slot = (int)(number % _ring.Length);
            _free[slot].Wait();
            if (_stop)
            {
                return;
            }

            var batch = _ring[slot];
            try
            {
                batch.Fill(_source, number * SharingEstimator.BatchPages, _keyer, _ownSalt);
            }
            catch (Exception e)
            {
                batch.Error = ExceptionDispatchInfo.Capture(e);
            }

            _filled[slot].Release();
            if (batch.EndsSource)
            {
                return;
            }
        }
    }
}
