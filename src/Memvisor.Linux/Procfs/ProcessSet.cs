/*
 * Every process the caller may read, for `memvisor scan` without arguments (paper §4 applied to a
 * whole host's processes).
 *
 * The processes are the numeric directories of /proc, in pid order. Processes the caller may not read
 * (another user's, without root) and processes that exit while being opened are counted, not errors;
 * so are processes without user memory (kernel threads, zombies). One process is left out on purpose:
 * the caller's own (the scanner's buffers and table would distort the estimate).
 */
using System.Globalization;
using Memvisor.Linux.Scanning;

namespace Memvisor.Linux.Procfs;

/// <summary>The readable processes of the host, opened as scan sources.</summary>
public sealed class ProcessSet : IDisposable
{
    private readonly List<ProcessPageSource> _sources = [];

    private ProcessSet()
    {
    }

    /// <summary>The opened processes with at least one resident page, in pid order.</summary>
    public IReadOnlyList<ProcessPageSource> Sources => _sources;

    /// <summary>The process left out on purpose (the caller's own), if it was found.</summary>
    public int? ExcludedPid { get; private set; }

    /// <summary>Processes the caller may not read.</summary>
    public int AccessDenied { get; private set; }

    /// <summary>Processes that exited before they could be opened.</summary>
    public int Vanished { get; private set; }

    /// <summary>Processes without resident user memory (kernel threads, zombies).</summary>
    public int WithoutMemory { get; private set; }

    /// <summary>Processes that could not be read for another reason (an I/O error).</summary>
    public int Failed { get; private set; }

    /// <summary>Why the first of the <see cref="Failed"/> processes failed, if any did.</summary>
    public string? FirstFailure { get; private set; }

    /// <summary>The ids of the processes under /proc, in increasing order.</summary>
    public static IReadOnlyList<int> ListPids()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid > 0)
            {
                pids.Add(pid);
            }
        }

        pids.Sort();
        return pids;
    }

    /// <summary>Opens every readable process except <paramref name="excludedPid"/>.</summary>
    /// <param name="excludedPid">The process to leave out (the caller's own).</param>
    /// <param name="framesOffered">Physical frames already offered; see <see cref="ProcessPageSource.Open"/>.</param>
    public static ProcessSet OpenAll(int excludedPid, ISet<ulong>? framesOffered = null)
    {
        framesOffered ??= new HashSet<ulong>();
        var set = new ProcessSet();
        try
        {
            foreach (var pid in ListPids())
            {
                if (pid == excludedPid)
                {
                    set.ExcludedPid = pid;
                    continue;
                }

                set.TryAdd(pid, framesOffered);
            }
        }
        catch
        {
            set.Dispose();
            throw;
        }

        return set;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var source in _sources)
        {
            source.Dispose();
        }

        _sources.Clear();
    }

    private void TryAdd(int pid, ISet<ulong> framesOffered)
    {
        ProcessPageSource source;
        try
        {
            source = ProcessPageSource.Open(pid, framesOffered);
        }
        catch (ScanSourceException e)
        {
            switch (e.Problem)
            {
                case ScanSourceProblem.AccessDenied:
                    AccessDenied++;
                    break;
                case ScanSourceProblem.NotFound or ScanSourceProblem.Vanished:
                    Vanished++;
                    break;
                default:
                    Failed++;
                    FirstFailure ??= e.Message;
                    break;
            }

            return;
        }

        if (source.PageCount == 0)
        {
            WithoutMemory++;
            source.Dispose();
            return;
        }

        _sources.Add(source);
    }
}
