/*
 * Memory that is not a VM's, offered to the sharing engine (paper §4, applied to `memvisor scan`).
 *
 * Problem. A capacity planner wants to know what content-based sharing would save on memory that
 * exists today: processes of a host, memory dumps, core files. The estimator runs such memory through
 * the same table and matching walk as the host; each source plays the role of a VM.
 *
 * Data structures. A source numbers its pages 0..PageCount-1 once, when it is opened, and keeps that
 * numbering: a hint frame names a page by (source, index) as the host names one by (VM, PPN), and a
 * later match reads the page again through the same index. Pages are read in runs so that a source can
 * serve many pages per system call; a run is readable, or unreadable (an I/O error), or says that the
 * source is gone (a process exited).
 */
namespace Memvisor.Core.Sharing;

/// <summary>What a read of pages found.</summary>
public enum PageRunKind : byte
{
    /// <summary>The pages were read.</summary>
    Read = 0,

    /// <summary>The pages cannot be read (an I/O error); later pages may be readable.</summary>
    Unreadable = 1,

    /// <summary>The source went away (a process exited): none of its pages can be read any more.</summary>
    SourceGone = 2,
}

/// <summary>
/// What <see cref="IScanPageSource.ReadPages"/> did: <see cref="Count"/> pages from the first index asked
/// for were read into the buffer, or cannot be read; or the source is gone (<see cref="Count"/> is 0).
/// </summary>
public readonly record struct PageRun(int Count, PageRunKind Kind)
{
    /// <summary>The source is gone: this and every later page cannot be read.</summary>
    public static readonly PageRun Gone = new(0, PageRunKind.SourceGone);

    /// <summary>The pages were read.</summary>
    public bool Readable => Kind == PageRunKind.Read;

    /// <summary><paramref name="count"/> pages were read.</summary>
    public static PageRun Read(int count) => new(count, PageRunKind.Read);

    /// <summary><paramref name="count"/> pages cannot be read.</summary>
    public static PageRun Unreadable(int count) => new(count, PageRunKind.Unreadable);
}

/// <summary>
/// What a source left out of its pages or changed in them, for the report. A source without such
/// facts returns <c>default</c>.
/// </summary>
/// <param name="NotResidentPages">Pages that exist but are not in memory (swapped out), left out of the scan.</param>
/// <param name="SkippedRanges">Address ranges left out because they cannot be read (special mappings such as [vvar]).</param>
/// <param name="PaddingBytes">Zero bytes appended to complete a short last page.</param>
/// <param name="AlreadySharedPages">
/// Pages left out because their physical page was already offered (by this source or an earlier one):
/// the operating system shares them already (the same file mapped twice, shared memory, a forked parent).
/// </param>
public readonly record struct ScanSourceFacts(long NotResidentPages, long SkippedRanges, long PaddingBytes, long AlreadySharedPages);

/// <summary>
/// Pages of memory to estimate sharing on: a process, a memory dump, a core file. Plays the role of a
/// VM for the <see cref="SharingEstimator"/>; page indices play the role of PPNs.
/// </summary>
public interface IScanPageSource
{
    /// <summary>A name for the report (a file path, a process id and name).</summary>
    string Name { get; }

    /// <summary>Pages offered, addressed 0 .. PageCount-1. Fixed for the life of the source.</summary>
    long PageCount { get; }

    /// <summary>
    /// Reads pages from <paramref name="firstIndex"/> on into <paramref name="buffer"/>, whose length is
    /// a positive multiple of the page size. A readable run holds between 1 and buffer-length / page-size
    /// pages; an unreadable run holds at least 1 page and at most PageCount - firstIndex; a source that is
    /// gone answers <see cref="PageRun.Gone"/>. The page at <paramref name="firstIndex"/> is always the
    /// first of the run. May be called again for any index at any time (a hint is checked by reading its
    /// page again); the bytes may have changed since.
    /// </summary>
    PageRun ReadPages(long firstIndex, Span<byte> buffer);

    /// <summary>What the source left out of its pages, for the report. Read after the scan.</summary>
    ScanSourceFacts Facts { get; }

    /// <summary>
    /// True when <see cref="ReadPages"/> may be called from two threads at once (for different pages or
    /// the same): the estimator then reads the source ahead on a second thread while it walks the table
    /// on its own, and reads hinted pages again meanwhile. False (the default) keeps every read on one thread.
    /// </summary>
    bool ConcurrentReads => false;
}
