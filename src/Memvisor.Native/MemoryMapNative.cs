/*
 * mmap family: the raw libc entry points for anonymous mappings and advice (mmap(2), madvise(2)).
 * Callers use AnonymousMapping, which owns the mapping and turns failures into ErrnoException.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>madvise(2) advice values used by Memvisor (Linux uapi asm-generic/mman-common.h).</summary>
public enum MemoryAdvice
{
    /// <summary>Drop the pages; the next access sees zero pages (anonymous memory).</summary>
    DontNeed = 4,

    /// <summary>Let KSM merge identical pages of this range.</summary>
    Mergeable = 12,

    /// <summary>Undo <see cref="Mergeable"/>: KSM unmerges the range's pages.</summary>
    Unmergeable = 13,

    /// <summary>Back the range with transparent huge pages where the kernel can (refused where THP is off).</summary>
    HugePage = 14,
}

internal static partial class MemoryMapNative
{
    internal const int ProtRead = 0x1;
    internal const int ProtWrite = 0x2;
    internal const int MapPrivate = 0x02;
    internal const int MapAnonymous = 0x20;
    internal const int MapPopulate = 0x8000;
    internal const int MapNoReserve = 0x4000;
    internal static readonly nint MapFailed = -1;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    internal static partial nint Mmap(nint address, nuint lengthBytes, int protection, int flags, int fd, long offsetBytes);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    internal static partial int Munmap(nint address, nuint lengthBytes);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    internal static partial int Madvise(nint address, nuint lengthBytes, int advice);
}
