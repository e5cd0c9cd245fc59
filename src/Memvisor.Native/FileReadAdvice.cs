/*
 * posix_fadvise(2): telling the kernel how a file will be read.
 *
 * Problem. `memvisor scan FILE` reads a file once, from start to end, in large preads. For a file not
 * yet in the page cache, POSIX_FADV_SEQUENTIAL doubles the kernel's readahead window for this open
 * file, so the disk is read in larger requests ahead of the scan. For a file already cached it costs
 * one call and changes nothing. The advice is a hint: failing to give it is never an error.
 */
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Native;

/// <summary>Access-pattern advice for an open file.</summary>
public static partial class FileReadAdvice
{
    private const int Sequential = 2; // POSIX_FADV_SEQUENTIAL

    /// <summary>Advises that <paramref name="file"/> will be read from start to end; returns the errno (0 when taken).</summary>
    public static int AdviseSequential(SafeFileHandle file)
    {
        ArgumentNullException.ThrowIfNull(file);

        // posix_fadvise returns the error number itself and does not set errno.
        return PosixFadvise(file, 0, 0, Sequential);
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(SafeFileHandle fd, long offset, long length, int advice);
}
