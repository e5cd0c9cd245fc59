/*
 * What kind of file a path names, asked of the kernel with statx(2) before the file is opened.
 *
 * Problem. .NET reports a FIFO, a character device and a regular file alike (FileAttributes.Normal,
 * length 0 for the first two), and opening a FIFO for reading blocks until a writer appears: an input
 * read "as a file" can hang (a FIFO) or never end (/dev/zero). Callers that read inputs whole ask the
 * kind first and refuse anything but a regular file.
 *
 * Data. statx with STATX_TYPE fills a struct statx whose layout is the same on every architecture
 * (unlike struct stat); only stx_mask and stx_mode are read. Symbolic links are followed, as open
 * would follow them.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>The type of a file system object.</summary>
public enum FileKind
{
    /// <summary>Nothing at that path.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe (FIFO).</summary>
    Fifo,

    /// <summary>A character device (e.g. /dev/zero).</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A Unix domain socket.</summary>
    Socket,

    /// <summary>Anything else the kernel reports.</summary>
    Other,
}

/// <summary>Asks the kernel what a path is.</summary>
public static partial class FileKinds
{
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28;

    /// <summary>The kind of <paramref name="path"/> (links followed).</summary>
    /// <exception cref="ErrnoException">statx failed other than by the path not existing (e.g. EACCES on a parent folder).</exception>
    public static unsafe FileKind Of(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var buffer = stackalloc byte[StatxCall.Bytes];
        // SAFETY: buffer is a 256-byte stack block, the size of struct statx, alive for the whole call;
        // the kernel writes at most sizeof(struct statx) bytes into it.
        if (StatxCall.Statx(StatxCall.AtFdCwd, path, 0, StatxType, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is StatxCall.Enoent or StatxCall.Enotdir ? FileKind.Missing : throw new ErrnoException("statx(STATX_TYPE)", errno);
        }

        // SAFETY: ModeOffset + 2 <= StatxCall.Bytes; stx_mode is a 16-bit field at offset 28 of struct statx.
        var mode = *(ushort*)(buffer + ModeOffset);
        return (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Other,
        };
    }
}
