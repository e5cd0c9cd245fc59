/*
 * A running process's resident memory as pages, for `memvisor scan --pid N` (paper §4 applied to
 * processes).
 *
 * Problem. Estimate sharing on the memory a process really holds: not its whole address space (an
 * untouched range would read as zero pages that use no memory), and not what the kernel cannot hand out.
 *
 * How. When the source is opened:
 *  - /proc/PID/maps lists the mappings; unreadable ones are left out, and so are the special mappings
 *    /proc/PID/mem cannot read ([vvar], [vsyscall]), counted as skipped ranges;
 *  - /proc/PID/pagemap gives one 64-bit entry per virtual page: bit 63 present in RAM, bit 62 swapped,
 *    bits 54..0 the physical frame number (PFN; shown to root only, zero otherwise).
 *    Only present pages are offered; swapped pages are counted as not resident and left out.
 *  - A physical page is offered once: with a set of the PFNs already offered (shared by the sources of
 *    one scan), a page whose PFN is in the set is left out and counted as already shared. The kernel
 *    shares it already (a library mapped by many processes, shared memory, a forked parent, the zero
 *    page, KSM), so content-based sharing could not save it again. Without PFNs (not root), every
 *    mapping of such a page is offered, and the estimate counts those pages as savings.
 * The present pages are numbered 0..PageCount-1 in address order and kept as runs of consecutive
 * addresses (start address, first index), so that page i is found by a binary search. A read of many
 * pages is one process_vm_readv call (RemoteProcess) with one remote range per run of consecutive
 * addresses it covers, pinned to the process by a pidfd. Where the kernel refuses process_vm_readv
 * (EPERM, ENOSYS: ptrace rules, a seccomp filter) the source reads /proc/PID/mem from then on, a run
 * per pread; a range process_vm_readv cannot copy (EFAULT: device memory, a range unmapped meanwhile)
 * is read again through /proc/PID/mem, whose short reads tell which page failed. The numbering is a
 * snapshot: a page freed since reads as whatever the kernel returns then (the zero page) or fails
 * (counted unreadable).
 * Reads may come from several threads at once (the estimator reads ahead): a read keeps no state but a
 * hint of the last run used, whether the process is gone and whether process_vm_readv was refused,
 * single words written whole.
 * A page that cannot be read (EIO: device memory and the like) is reported as an unreadable run of one
 * page; once the process has exited, reads return nothing and the source reports itself gone.
 */
using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Linux.Scanning;
using Memvisor.Native;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Linux.Procfs;

/// <summary>The resident pages of a running process, read through /proc/PID/mem.</summary>
public sealed class ProcessPageSource : IScanPageSource, IDisposable
{
    private const int PageSize = PageGeometry.PageSizeBytes;
    private const ulong PagemapPresent = 1UL << 63;
    private const ulong PagemapSwapped = 1UL << 62;
    private const ulong PagemapFrameMask = (1UL << 55) - 1;
    private const int PagemapChunkEntries = 8192;

    // Ranges one read gathers on the stack; a read of more runs than this stops at the last.
    private const int MaxRangesPerRead = 256;

    private readonly SafeFileHandle? _mem;
    private readonly RemoteProcess? _reader;
    private readonly ulong[] _runAddress;
    private readonly long[] _runFirstIndex;
    private readonly long _notResidentPages;
    private readonly long _skippedRanges;
    private readonly long _alreadySharedPages;
    private int _lastRun;
    private bool _vanished;
    private bool _vectorReadsRefused;

    private ProcessPageSource(int pid, string command, SafeFileHandle? mem, RemoteProcess? reader, Snapshot snapshot)
    {
        Pid = pid;
        Command = command;
        _mem = mem;
        _reader = reader;
        _runAddress = [.. snapshot.RunAddress];
        _runFirstIndex = [.. snapshot.RunFirstIndex];
        PageCount = snapshot.PageCount;
        _notResidentPages = snapshot.NotResident;
        _skippedRanges = snapshot.Skipped;
        _alreadySharedPages = snapshot.AlreadyShared;
        FramesVisible = snapshot.FramesVisible;
    }

    /// <summary>The process id.</summary>
    public int Pid { get; }

    /// <summary>The process's command name (/proc/PID/comm).</summary>
    public string Command { get; }

    /// <inheritdoc/>
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{Pid} {Command}");

    /// <inheritdoc/>
    public long PageCount { get; }

    /// <summary>Runs of consecutive resident pages.</summary>
    public int RunCount => _runAddress.Length;

    /// <inheritdoc/>
    public ScanSourceFacts Facts => new(_notResidentPages, _skippedRanges, 0, _alreadySharedPages);

    /// <summary>Pagemap showed physical frame numbers (it does to root only), so pages already shared by the kernel were recognised.</summary>
    public bool FramesVisible { get; }

    /// <summary>process_vm_readv is in use for this process (false: refused, or pidfds are not available).</summary>
    public bool ReadsByVector => _reader is not null && !_vectorReadsRefused;

    /// <summary>
    /// Opens process <paramref name="pid"/> and takes the snapshot of its resident pages. Pages whose
    /// physical frame is in <paramref name="framesOffered"/> are left out as already shared; the frames of
    /// the pages offered are added to it.
    /// </summary>
    /// <exception cref="ScanSourceException">No such process, not permitted, or it exited meanwhile.</exception>
    public static ProcessPageSource Open(int pid, ISet<ulong>? framesOffered = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        var dir = string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}");
        SafeFileHandle? mem = null;
        RemoteProcess? reader = null;
        try
        {
            var maps = ProcMaps.Parse(File.ReadAllText(Path.Combine(dir, "maps")));
            var command = File.ReadAllText(Path.Combine(dir, "comm")).TrimEnd('\n');
            if (maps.Count == 0)
            {
                // A kernel thread or a zombie: no user memory, and /proc/PID/mem cannot be opened.
                return new ProcessPageSource(pid, command, null, null, new Snapshot());
            }

            mem = File.OpenHandle(Path.Combine(dir, "mem"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var pagemap = File.OpenHandle(Path.Combine(dir, "pagemap"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            var snapshot = TakeSnapshot(pid, pagemap, maps, framesOffered ?? new HashSet<ulong>());
            reader = OpenReader(pid);
            var source = new ProcessPageSource(pid, command, mem, reader, snapshot);
            mem = null;
            reader = null;
            return source;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw Directory.Exists(dir) ? Exited(pid, e) : new ScanSourceException(ScanSourceProblem.NotFound, $"No process with id {pid}.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ScanSourceException(ScanSourceProblem.AccessDenied, Environment.IsPrivilegedProcess
                ? $"Permission denied reading the memory of process {pid}, even as root: the kernel refuses it (the process is in another user or PID namespace, or a Yama or lockdown policy forbids it)."
                : $"Permission denied reading the memory of process {pid} (reading another user's process needs root or CAP_SYS_PTRACE).", e);
        }
        catch (IOException e)
        {
            // ESRCH and short pagemap reads come from a process that is exiting.
            throw HasExited(dir) ? Exited(pid, e) : new ScanSourceException(ScanSourceProblem.Other, $"Cannot read process {pid}: {e.Message}", e);
        }
        finally
        {
            mem?.Dispose();
            reader?.Dispose();
        }
    }

    /// <inheritdoc/>
    public bool ConcurrentReads => true;

    /// <inheritdoc/>
    public PageRun ReadPages(long firstIndex, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(firstIndex, PageCount);
        if (_vanished || _mem is null)
        {
            return PageRun.Gone;
        }

        var run = FindRun(firstIndex);
        if (_reader is not null && !_vectorReadsRefused)
        {
            var result = ReadVector(run, firstIndex, buffer);
            if (result.Bytes >= PageSize)
            {
                // A partial copy stops at the first range that failed; that page comes first in the next call.
                return PageRun.Read((int)(result.Bytes / PageSize));
            }

            if (result.Errno == RemoteProcess.Esrch)
            {
                _vanished = true;
                return PageRun.Gone;
            }

            _vectorReadsRefused = RemoteProcess.IsRefusal(result.Errno);

            // Refused, or the first range cannot be copied: /proc/PID/mem tells which page fails.
        }

        return ReadMem(run, firstIndex, buffer);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _mem?.Dispose();
        _reader?.Dispose();
    }

    /// <summary>Reads pages the way <see cref="ReadPages"/> does, but only through /proc/PID/mem (for tests of the fallback).</summary>
    internal PageRun ReadPagesThroughMem(long firstIndex, Span<byte> buffer) =>
        _vanished || _mem is null ? PageRun.Gone : ReadMem(FindRun(firstIndex), firstIndex, buffer);

    private static Snapshot TakeSnapshot(int pid, SafeFileHandle pagemap, IReadOnlyList<ProcMapping> maps, ISet<ulong> framesOffered)
    {
        var snapshot = new Snapshot();
        var framesHere = new HashSet<ulong>(); // committed to framesOffered only if the snapshot completes
        var nextAddress = ulong.MaxValue; // the address that would extend the current run
        var entries = ArrayPool<ulong>.Shared.Rent(PagemapChunkEntries);
        try
        {
            foreach (var mapping in maps)
            {
                if (!mapping.IsReadable || mapping.PageCount == 0)
                {
                    continue;
                }

                if (mapping.IsUnreadableSpecial || mapping.End > long.MaxValue)
                {
                    snapshot.Skipped++;
                    continue;
                }

                for (var vpn = mapping.Start >> PageGeometry.PageShift; vpn < mapping.End >> PageGeometry.PageShift;)
                {
                    var want = (int)Math.Min(PagemapChunkEntries, (mapping.End >> PageGeometry.PageShift) - vpn);
                    var bytes = MemoryMarshal.AsBytes(entries.AsSpan(0, want));
                    var got = RandomAccess.Read(pagemap, bytes, (long)vpn * sizeof(ulong)) / sizeof(ulong);
                    if (got == 0)
                    {
                        throw new IOException($"/proc/{pid}/pagemap ended early.");
                    }

                    for (var i = 0; i < got; i++, vpn++)
                    {
                        var entry = entries[i];
                        if ((entry & PagemapPresent) == 0)
                        {
                            snapshot.NotResident += (entry & PagemapSwapped) != 0 ? 1 : 0;
                            continue;
                        }

                        var frame = entry & PagemapFrameMask;
                        if (frame != 0)
                        {
                            snapshot.FramesVisible = true;
                            if (framesOffered.Contains(frame) || !framesHere.Add(frame))
                            {
                                snapshot.AlreadyShared++;
                                continue;
                            }
                        }

                        var address = vpn << PageGeometry.PageShift;
                        if (address != nextAddress)
                        {
                            snapshot.RunAddress.Add(address);
                            snapshot.RunFirstIndex.Add(snapshot.PageCount);
                        }

                        nextAddress = address + PageSize;
                        snapshot.PageCount++;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(entries);
        }

        framesOffered.UnionWith(framesHere);
        return snapshot;
    }

    /// <summary>A pidfd reader of <paramref name="pid"/>, or null where pidfds are not available (the source then reads /proc/PID/mem).</summary>
    private static RemoteProcess? OpenReader(int pid)
    {
        try
        {
            return RemoteProcess.Open(pid);
        }
        catch (ErrnoException e) when (e.Errno != RemoteProcess.Esrch)
        {
            return null;
        }
        catch (ErrnoException e)
        {
            throw new IOException($"Process {pid} exited: {e.Message}", e);
        }
    }

    private static ScanSourceException Exited(int pid, Exception inner) =>
        new(ScanSourceProblem.Vanished, $"Process {pid} exited while it was being opened.", inner);

    /// <summary>The process is gone, or a zombie or dead (state Z or X in /proc/PID/stat).</summary>
    private static bool HasExited(string dir)
    {
        try
        {
            var fields = ProcStat.FieldsAfterComm(File.ReadAllText(Path.Combine(dir, "stat")));
            return fields.Length == 0 || fields[0][0] is 'Z' or 'X' or 'x';
        }
        catch (FormatException)
        {
            return false; // not a stat line this code reads: taken as running, as the kernel's own never lacks comm
        }
        catch (IOException)
        {
            return true; // gone
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Reads from <paramref name="firstIndex"/> (in run <paramref name="run"/>) on, across runs, in one process_vm_readv call.</summary>
    private ProcessReadResult ReadVector(int run, long firstIndex, Span<byte> buffer)
    {
        Span<AddressRange> ranges = stackalloc AddressRange[MaxRangesPerRead];
        var wanted = Math.Min(buffer.Length / PageSize, PageCount - firstIndex);
        var count = 0;
        var index = firstIndex;
        for (; count < ranges.Length && index < firstIndex + wanted; run++, count++)
        {
            var runEnd = run + 1 < _runFirstIndex.Length ? _runFirstIndex[run + 1] : PageCount;
            var pages = Math.Min(runEnd, firstIndex + wanted) - index;
            var address = _runAddress[run] + ((ulong)(index - _runFirstIndex[run]) << PageGeometry.PageShift);
            ranges[count] = new AddressRange(address, (ulong)pages << PageGeometry.PageShift);
            index += pages;
        }

        return _reader!.Read(ranges[..count], buffer);
    }

    /// <summary>Reads from <paramref name="firstIndex"/> to the end of its run at most, with one pread of /proc/PID/mem.</summary>
    private PageRun ReadMem(int run, long firstIndex, Span<byte> buffer)
    {
        var runEnd = run + 1 < _runFirstIndex.Length ? _runFirstIndex[run + 1] : PageCount;
        var pages = (int)Math.Min(buffer.Length / PageSize, runEnd - firstIndex);
        var address = _runAddress[run] + ((ulong)(firstIndex - _runFirstIndex[run]) << PageGeometry.PageShift);
        int read;
        try
        {
            read = RandomAccess.Read(_mem!, buffer[..(pages * PageSize)], (long)address);
        }
        catch (IOException)
        {
            // EIO and the like: this page cannot be read (device memory, a range unmapped meanwhile).
            return PageRun.Unreadable(1);
        }

        if (read == 0)
        {
            // /proc/PID/mem reads nothing once the process's address space is gone: it exited.
            _vanished = true;
            return PageRun.Gone;
        }

        // A short read stops at the first page that failed; that page comes first in the next call.
        return read >= PageSize ? PageRun.Read(read / PageSize) : PageRun.Unreadable(1);
    }

    private int FindRun(long index)
    {
        // Reads are mostly sequential: try the run of the last read first.
        var last = _lastRun;
        if (index >= _runFirstIndex[last] && (last + 1 == _runFirstIndex.Length || index < _runFirstIndex[last + 1]))
        {
            return last;
        }

        // The estimator may read from two threads: the run found is returned as computed, not read back.
        var found = Array.BinarySearch(_runFirstIndex, index);
        var run = found >= 0 ? found : ~found - 1;
        _lastRun = run;
        return run;
    }

    private sealed class Snapshot
    {
        public List<ulong> RunAddress { get; } = [];

        public List<long> RunFirstIndex { get; } = [];

        public long PageCount { get; set; }

        public long NotResident { get; set; }

        public long Skipped { get; set; }

        public long AlreadyShared { get; set; }

        public bool FramesVisible { get; set; }
    }
}
