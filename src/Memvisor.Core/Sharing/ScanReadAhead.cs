/*
 * Reading ahead of the sharing estimator on a second core (`memvisor scan`).
 *
 * Problem. Per page, the estimator reads the page (a copy out of the page cache or another process),
 * checks it for zero, hashes it, and then matches it against the share table. The table walk must run
 * in page order on one thread (the first page of a content keeps it; results depend only on the
 * input), but reading, the zero check and hashing depend on nothing but the page.
 *
 * How. For a source whose reads may run on two threads at once (IScanPageSource.ConcurrentReads), a
 * worker thread reads the source batch by batch, exactly as the estimator would (same first index,
 * same batch size, the next batch where the run ended), into a ring of batch buffers, and prepares
 * each readable page's zero flag, salt and salted key (PageKeyer). The estimator consumes the batches
 * in order and does only the table walk; hints it checks are read again by the estimator's thread,
 * meanwhile. So the counts are those of a scan on one thread: the same reads, in the same order, for
 * the same pages. The worker stops after a run that ends the source (gone, malformed, last page), and
 * when the estimator stops early (cancellation, an error): Dispose tells it and waits for it. An
 * exception in the worker is thrown again by the estimator's thread. Nothing is allocated per page.
 */
using System.Runtime.ExceptionServices;
using Memvisor.Core.Memory;

namespace Memvisor.Core.Sharing;

/// <summary>What the estimator needs to know of a page before the table walk: zero or not, its salt and its salted key.</summary>
internal readonly struct PageKeyer(IPageHasher hasher, ShareSaltMode saltMode, bool zeroPagesOnly)
{
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
        key = ShareMatcher.SaltedKey(hasher.Hash(page), salt);
    }
}

/// <summary>One batch read ahead: the pages, the run the source answered, and each page's prepared key.</summary>
internal sealed class ReadAheadBatch
{
    public ReadAheadBatch(int batchPages)
    {
        Bytes = new byte[batchPages * PageGeometry.PageSizeBytes];
        Zero = new bool[batchPages];
        Salts = new ulong[batchPages];
        Keys = new ulong[batchPages];
    }

    public byte[] Bytes { get; }

    public bool[] Zero { get; }

    public ulong[] Salts { get; }

    public ulong[] Keys { get; }

    /// <summary>The first page asked for.</summary>
    public long Index { get; set; }

    /// <summary>Pages asked for.</summary>
    public int Want { get; set; }

    /// <summary>What the source answered.</summary>
    public PageRun Run { get; set; }

    /// <summary>The run is not one the source may answer (no pages, or more than asked for or than are left).</summary>
    public bool Malformed { get; private set; }

    /// <summary>
    /// Reads the batch of <paramref name="source"/> that starts at page <paramref name="index"/> and
    /// prepares every page of a readable run (zero flag, salt, salted key).
    /// </summary>
    public void Fill(IScanPageSource source, long index, PageKeyer keyer, ulong ownSalt)
    {
        var pageCount = source.PageCount;
        Index = index;
        Want = (int)Math.Min(SharingEstimator.BatchPages, pageCount - index);
        var run = source.ReadPages(index, Bytes.AsSpan(0, Want * PageGeometry.PageSizeBytes));
        Run = run;
        Malformed = run.Count < 1 || run.Count > (run.Readable ? Want : pageCount - index);
        if (run.Readable && !Malformed)
        {
            for (var i = 0; i < run.Count; i++)
            {
                keyer.Prepare(Bytes.AsSpan(i * PageGeometry.PageSizeBytes, PageGeometry.PageSizeBytes), ownSalt, out Zero[i], out Salts[i], out Keys[i]);
            }
        }
    }

    /// <summary>The worker read nothing after this batch.</summary>
    public bool Last { get; set; }

    /// <summary>What the worker threw instead of reading this batch.</summary>
    public ExceptionDispatchInfo? Error { get; set; }
}

/// <summary>A worker thread reading one source's batches ahead of the estimator (see the file header).</summary>
internal sealed class ScanReadAhead : IDisposable
{
    private readonly ReadAheadBatch[] _ring;
    private readonly IScanPageSource _source;
    private readonly PageKeyer _keyer;
    private readonly ulong _ownSalt;
    private readonly SemaphoreSlim _free;
    private readonly SemaphoreSlim _filled = new(0);
    private readonly Thread _worker;
    private volatile bool _stop;
    private int _next;

    /// <summary>Starts reading <paramref name="source"/> from page 0 into <paramref name="ring"/> (reused between sources).</summary>
    public ScanReadAhead(ReadAheadBatch[] ring, IScanPageSource source, PageKeyer keyer, ulong ownSalt)
    {
        _ring = ring;
        _source = source;
        _keyer = keyer;
        _ownSalt = ownSalt;
        _free = new SemaphoreSlim(ring.Length);
        _worker = new Thread(Work) { IsBackground = true, Name = "memvisor scan read-ahead" };
        _worker.Start();
    }

    /// <summary>The next batch, in order; waits for the worker. Hand it back with <see cref="Release"/> before asking for another.</summary>
    public ReadAheadBatch Take(CancellationToken cancellationToken)
    {
        _filled.Wait(cancellationToken);
        var batch = _ring[_next];
        _next = (_next + 1) % _ring.Length;
        batch.Error?.Throw();
        return batch;
    }

    /// <summary>Gives the oldest batch taken back to the worker.</summary>
    public void Release() => _free.Release();

    /// <inheritdoc/>
    public void Dispose()
    {
        _stop = true;
        _free.Release();
        _worker.Join();
        _free.Dispose();
        _filled.Dispose();
    }

    private void Work()
    {
        var pageCount = _source.PageCount;
        var index = 0L;
        var slot = 0;
        while (true)
        {
            _free.Wait();
            if (_stop)
            {
                return;
            }

            var batch = _ring[slot];
            slot = (slot + 1) % _ring.Length;
            try
            {
                batch.Error = null;
                batch.Fill(_source, index, _keyer, _ownSalt);
                index += batch.Malformed ? 0 : batch.Run.Count;
                batch.Last = batch.Run.Kind == PageRunKind.SourceGone || batch.Malformed || index >= pageCount;
            }
            catch (Exception e)
            {
                batch.Error = ExceptionDispatchInfo.Capture(e);
                batch.Last = true;
            }

            _filled.Release();
            if (batch.Last)
            {
                return;
            }
        }
    }
}
