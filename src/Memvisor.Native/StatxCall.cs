/*
 * statx(2), the one declaration FileKinds and FileIdentity share: struct statx is 256 bytes on every
 * architecture; the callers read their fields at fixed offsets of a stack block of that size.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>The statx(2) call and the constants its callers share.</summary>
internal static partial class StatxCall
{
    /// <summary>AT_FDCWD: a relative path is relative to the working directory.</summary>
    public const int AtFdCwd = -100;

    /// <summary>sizeof(struct statx).</summary>
    public const int Bytes = 256;

    /// <summary>ENOENT: nothing at the path.</summary>
    public const int Enoent = 2;

    /// <summary>ENOTDIR: a component of the path is not a folder.</summary>
    public const int Enotdir = 20;

    /// <summary>statx(directoryFd, path, flags, mask, buffer); buffer must hold <see cref="Bytes"/> bytes.</summary>
    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static unsafe partial int Statx(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
