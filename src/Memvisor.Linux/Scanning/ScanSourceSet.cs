/*
 * The sources of one `memvisor scan`: files and processes named by the user, or, when none is named,
 * every process the caller may read (paper §4 applied to a host's real memory).
 *
 * A named source that cannot be opened is the user's mistake or a permission problem: an error that
 * names it. Processes found by the scan itself may exit or be out of reach: they are counted in
 * AllProcesses, and the scanner's own process is left out (its buffers would distort the estimate).
 * A file or process named twice is scanned once (twice would share every page with itself), and a
 * physical page mapped by several processes is offered once (see ProcessPageSource).
 */
using Memvisor.Core.Sharing;
using Memvisor.Linux.Procfs;

namespace Memvisor.Linux.Scanning;

/// <summary>The opened sources of one scan, in the order they are to be scanned.</summary>
public sealed class ScanSourceSet : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<IScanPageSource> _sources = [];

    private ScanSourceSet()
    {
    }

    /// <summary>Files first, in the order named, then processes in the order named (or pid order).</summary>
    public IReadOnlyList<IScanPageSource> Sources => _sources;

    /// <summary>When no source was named: the host's processes, with the counts of those left out.</summary>
    public ProcessSet? AllProcesses { get; private set; }

    /// <summary>
    /// Some process showed no physical frame numbers (the caller is not root): pages the kernel already
    /// shares were offered once per mapping, and count as savings.
    /// </summary>
    public bool FramesHidden => _sources.OfType<ProcessPageSource>().Any(p => p.PageCount > 0 && !p.FramesVisible);

    /// <summary>Pages offered by all sources.</summary>
    public long PageCount => _sources.Sum(s => s.PageCount);

    /// <summary>
    /// Opens the named <paramref name="files"/> and processes <paramref name="pids"/>; when both are
    /// empty, every readable process except <paramref name="selfPid"/>.
    /// </summary>
    /// <exception cref="ScanSourceException">A named file or process cannot be opened.</exception>
    public static ScanSourceSet Open(IReadOnlyList<string> files, IReadOnlyList<int> pids, int selfPid)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(pids);
        var set = new ScanSourceSet();
        var framesOffered = new HashSet<ulong>();
        try
        {
            if (files.Count == 0 && pids.Count == 0)
            {
                set.AllProcesses = ProcessSet.OpenAll(selfPid, framesOffered);
                set._owned.Add(set.AllProcesses);
                set._sources.AddRange(set.AllProcesses.Sources);
                return set;
            }

            foreach (var path in files.DistinctBy(path => path.Length == 0 ? path : Path.GetFullPath(path)))
            {
                set.Add(FilePageSource.Open(path));
            }

            foreach (var pid in pids.Distinct())
            {
                set.Add(ProcessPageSource.Open(pid, framesOffered));
            }

            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _owned.Clear();
        _sources.Clear();
    }

    private void Add<T>(T source)
        where T : IScanPageSource, IDisposable
    {
        _owned.Add(source);
        _sources.Add(source);
    }
}
