/*
 * Whether an open file and a path are the same file (device and inode), asked of the kernel with statx(2).
 *
 * Problem. A lock file that its holder deletes when done (so that nothing is left behind) can be opened
 * by a second process just before the deletion; that process then locks the deleted file and believes it
 * holds the lock while a third creates and locks a new file under the same name. A locker must check,
 * once it holds the lock, that the path still names the file it locked, and start again if not.
 *
 * Data. statx with STATX_INO on the descriptor (AT_EMPTY_PATH) and on the path; stx_ino at offset 32,
 * stx_dev_major and stx_dev_minor at 136 and 140 of struct statx (the same layout on every architecture).
 */
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Native;

/// <summary>Compares files by device and inode.</summary>
public static partial class FileIdentity
{
    private const int AtEmptyPath = 0x1000;
    private const uint StatxIno = 0x100;
    private const int InoOffset = 32;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;

    /// <summary>True when <paramref name="path"/> (links followed) names the file open as <paramref name="handle"/>; false when it names another file or nothing.</summary>
    /// <exception cref="ErrnoException">statx failed on the open file, or on the path other than by it not existing.</exception>
    public static unsafe bool Same(SafeFileHandle handle, string path)
    {
        ArgumentNullException.ThrowIfNull(handle);
        ArgumentNullException.ThrowIfNull(path);
        var open = stackalloc byte[StatxCall.Bytes];
        var named = stackalloc byte[StatxCall.Bytes];
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            // SAFETY: open is a 256-byte stack block, the size of struct statx, alive for the call; the
            // descriptor is kept open by the reference added above.
            if (StatxCall.Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxIno, open) != 0)
            {
                throw new ErrnoException("statx(AT_EMPTY_PATH, STATX_INO)", Marshal.GetLastPInvokeError());
            }
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }

        // SAFETY: as above, for named.
        if (StatxCall.Statx(StatxCall.AtFdCwd, path, 0, StatxIno, named) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno is StatxCall.Enoent or StatxCall.Enotdir ? false : throw new ErrnoException("statx(STATX_INO)", errno);
        }

        // SAFETY: every offset read is within the 256 bytes of each block (struct statx's fields).
        return *(ulong*)(open + InoOffset) == *(ulong*)(named + InoOffset)
            && *(uint*)(open + DevMajorOffset) == *(uint*)(named + DevMajorOffset)
            && *(uint*)(open + DevMinorOffset) == *(uint*)(named + DevMinorOffset);
    }
}
