/*
 * A file read as 4 KiB pages, for `memvisor scan FILE` (paper §4 applied to memory dumps).
 *
 * Problem. Memory dumps, core files and VM memory images hold memory as it was; estimating sharing on
 * them tells what a host running those guests or processes could save. Any file is taken as a sequence
 * of pages: page i is bytes [4096 i, 4096 (i + 1)). A short last page is padded with zero bytes (the
 * report says how many). Reads use positional I/O (pread) on one handle, so that a hint's page can be
 * read again at any time, from any thread: the estimator reads a file ahead on the other cores. The
 * kernel is told the file will be read sequentially (a larger readahead for a file not yet cached).
 *
 * Why pread and not a mapping (measured, session 6). Hashing pages straight from a shared mapping of
 * the file would avoid the kernel's copy into the batch buffer, but:
 *  - It is not safe. A file truncated while it is scanned (by its writer, a log rotation, a VM's disk
 *    image shrunk) turns every access to a mapped page beyond the new end into SIGBUS, and so does an
 *    I/O error on a page not in the page cache. The .NET runtime ends the process on it (JIT: "Fatal
 *    error. System.AccessViolationException", exit 134; Native AOT: "Bus error", exit 135), and no
 *    check before the access closes the race. A read lease (fcntl F_SETLEASE F_RDLCK) narrows it but
 *    does not close it: the truncater is held only for /proc/sys/fs/lease-break-time seconds (45 here;
 *    one jiffy when set to 0), after which the kernel removes the lease and the truncate goes on. A
 *    scan that does not act in time (stopped by Ctrl-Z or a cgroup freezer, or starved on a loaded
 *    host) then touches a truncated mapping: a holder that let the break time pass (50 s) had its lease
 *    removed (F_GETLEASE answered F_UNLCK), the truncate returned after 46.5 s, and its next read of
 *    the mapping raised SIGBUS. Leases also need the caller to own the file (or CAP_LEASE).
 *  - It is not cheaper here. Reading a 1 GiB file from the page cache (4 KiB folios) cost the same
 *    CPU mapped as copied, within 5%: pread of 64 pages into one buffer and a pass over it 0.156-0.172 s, a
 *    mapping and a pass over it 0.153-0.161 s (a minimal C program, eight runs each). A mapping pays
 *    one fault per 16 pages (fault-around), per-page reverse-map and memory-cgroup accounting, the
 *    unmapping, and reads that miss the cache where the copy's buffer is still in it.
 * pread answers a short read or EIO instead, which the scan reports as unreadable pages and goes on.
 */
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Native;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Linux.Scanning;

/// <summary>A file read as pages.</summary>
public sealed class FilePageSource : IScanPageSource, IDisposable
{
    private const int PageSize = PageGeometry.PageSizeBytes;
    private readonly SafeFileHandle _handle;
    private readonly long _length;

    private FilePageSource(string path, SafeFileHandle handle, long length)
    {
        Name = path;
        _handle = handle;
        _length = length;
        PageCount = (length + PageSize - 1) / PageSize;
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public long PageCount { get; }

    /// <inheritdoc/>
    public bool ConcurrentReads => true;

    /// <summary>Bytes in the file.</summary>
    public long Length => _length;

    /// <inheritdoc/>
    public ScanSourceFacts Facts => new(0, 0, (PageCount * PageSize) - _length, 0);

    /// <summary>Opens <paramref name="path"/> for reading as pages.</summary>
    /// <exception cref="ScanSourceException">The file does not exist, is a directory, or cannot be read.</exception>
    public static FilePageSource Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new ScanSourceException(ScanSourceProblem.NotFound, "An empty file name was given.");
        }

        if (Directory.Exists(path))
        {
            throw new ScanSourceException(ScanSourceProblem.NotAFile, $"'{path}' is a directory, not a file of pages.");
        }

        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            _ = FileReadAdvice.AdviseSequential(handle); // a hint: a file that refuses it is read all the same
            var source = new FilePageSource(path, handle, RandomAccess.GetLength(handle));
            handle = null;
            return source;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ScanSourceException(ScanSourceProblem.NotFound, $"No such file: '{path}'.", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ScanSourceException(ScanSourceProblem.AccessDenied, $"Permission denied reading '{path}'.", e);
        }
        catch (Exception e) when (e is IOException or NotSupportedException)
        {
            throw new ScanSourceException(ScanSourceProblem.Other, $"Cannot read '{path}': {e.Message}", e);
        }
        finally
        {
            handle?.Dispose();
        }
    }

    /// <inheritdoc/>
    public PageRun ReadPages(long firstIndex, Span<byte> buffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(firstIndex, PageCount);
        var offset = firstIndex * PageSize;
        var wanted = (int)Math.Min(buffer.Length, _length - offset);
        var done = 0;
        try
        {
            while (done < wanted)
            {
                var read = RandomAccess.Read(_handle, buffer[done..wanted], offset + done);
                if (read == 0)
                {
                    break; // The file shrank since it was opened.
                }

                done += read;
            }
        }
        catch (IOException) when (done < PageSize)
        {
            return PageRun.Unreadable(1);
        }
        catch (IOException)
        {
            // Keep the whole pages read before the error; the failing page comes first in the next call.
        }

        if (done < wanted && done < PageSize)
        {
            return PageRun.Unreadable((int)Math.Min(PageCount - firstIndex, int.MaxValue));
        }

        if (done == wanted && offset + done == _length)
        {
            // The file's short last page: pad it with zeros to a whole page.
            var whole = (done + PageSize - 1) / PageSize * PageSize;
            buffer[done..whole].Clear();
            return PageRun.Read(whole / PageSize);
        }

        return PageRun.Read(done / PageSize);
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
