/*
 * A file's pages in the page cache, written back and counted from outside any mapping of it:
 * sync_file_range(2) and cachestat(2) (Linux 6.5+) on an fd of our own.
 *
 * Problem. A guest whose RAM is a shared mapping of a file on disk can be paged by the host without
 * swap: its pages are page-cache pages of that file. MADV_PAGEOUT drops only CLEAN file pages: a dirty
 * one is unmapped (the mapping's RSS falls) but stays in the page cache, dirty, so no memory is freed
 * (seen on 6.18: 64 MiB of dirty pages advised out, RSS 0, cachestat still 64 MiB cached and dirty).
 * So a pager writes its victims back first (sync_file_range WAIT_BEFORE | WRITE | WAIT_AFTER: start
 * the writes for all ranges, then wait), then advises them out; and it counts memory by the page
 * cache (cachestat's nr_cache), which is what the host holds, not by RSS.
 *
 * Data. An fd of the file opened read-only (sync_file_range and cachestat need no write access).
 */
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Native;

/// <summary>The page-cache state of a file range, in 4 KiB pages (struct cachestat).</summary>
/// <param name="CachedPages">Pages in the page cache.</param>
/// <param name="DirtyPages">Of those, dirty (not yet written to the file).</param>
/// <param name="WritebackPages">Of those, being written now.</param>
/// <param name="EvictedPages">Pages evicted from the cache whose shadow entries remain.</param>
/// <param name="RecentlyEvictedPages">Of those, evicted recently.</param>
public readonly record struct FileCacheState(long CachedPages, long DirtyPages, long WritebackPages, long EvictedPages, long RecentlyEvictedPages);

/// <summary>An fd of a file, for writing its cached pages back and counting them.</summary>
public sealed partial class FileWriteBack : IDisposable
{
    private const uint WaitBefore = 1; // SYNC_FILE_RANGE_WAIT_BEFORE
    private const uint Write = 2; // SYNC_FILE_RANGE_WRITE
    private const uint WaitAfter = 4; // SYNC_FILE_RANGE_WAIT_AFTER
    private const long CachestatSyscall = 451; // x86-64 and arm64 alike (the generic table)
    private readonly SafeFileHandle _fd;

    private FileWriteBack(string path, SafeFileHandle fd)
    {
        Path = path;
        _fd = fd;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Opens <paramref name="path"/> read-only.</summary>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public static FileWriteBack Open(string path) =>
        new(path, File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    /// <summary>Starts writing back the dirty pages of every range (file offsets and lengths), then waits until all are on disk.</summary>
    /// <exception cref="ErrnoException">The kernel refused (EIO: the disk failed; EINVAL: a bad range).</exception>
    public void WriteBack(ReadOnlySpan<(long OffsetBytes, long LengthBytes)> ranges)
    {
        foreach (var (offset, length) in ranges)
        {
            SyncRange(offset, length, Write);
        }

        foreach (var (offset, length) in ranges)
        {
            SyncRange(offset, length, WaitBefore | Write | WaitAfter);
        }
    }

    /// <summary>The page-cache state of [<paramref name="offsetBytes"/>, +<paramref name="lengthBytes"/>); length 0: to the end of the file.</summary>
    /// <exception cref="ErrnoException">cachestat is missing (ENOSYS, before Linux 6.5) or refused.</exception>
    public unsafe FileCacheState Cache(long offsetBytes = 0, long lengthBytes = 0)
    {
        var range = new CachestatRange { OffsetBytes = (ulong)offsetBytes, LengthBytes = (ulong)lengthBytes };
        CachestatResult result;

        // SAFETY: range and result are locals of this frame, alive for the whole call; the kernel reads
        // sizeof(struct cachestat_range) from the first and writes sizeof(struct cachestat) to the
        // second, the sizes of these structs. syscall(2) is variadic: every argument here is an integer
        // or a pointer passed in a general register, which the fixed-argument call also uses.
        if (Cachestat(CachestatSyscall, _fd, &range, &result, 0) < 0)
        {
            throw ErrnoException.FromLastError($"cachestat({Path})");
        }

        return new FileCacheState((long)result.Cache, (long)result.Dirty, (long)result.Writeback, (long)result.Evicted, (long)result.RecentlyEvicted);
    }

    /// <inheritdoc/>
    public void Dispose() => _fd.Dispose();

    private void SyncRange(long offset, long length, uint flags)
    {
        if (SyncFileRange(_fd, offset, length, flags) != 0)
        {
            throw ErrnoException.FromLastError($"sync_file_range({Path}, {offset}+{length})");
        }
    }

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static partial int SyncFileRange(SafeFileHandle fd, long offsetBytes, long lengthBytes, uint flags);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static unsafe partial long Cachestat(long number, SafeFileHandle fd, CachestatRange* range, CachestatResult* result, nuint flags);

    /// <summary>struct cachestat_range.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatRange
    {
        public ulong OffsetBytes;
        public ulong LengthBytes;
    }

    /// <summary>struct cachestat.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct CachestatResult
    {
        public ulong Cache;
        public ulong Dirty;
        public ulong Writeback;
        public ulong Evicted;
        public ulong RecentlyEvicted;
    }
}
