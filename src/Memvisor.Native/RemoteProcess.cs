/*
 * Another process's memory, advised from outside: a pidfd (pidfd_open(2)) and process_madvise(2)
 * with MADV_PAGEOUT (Linux 5.10+).
 *
 * Problem. A managing substrate pages a VM out the way ESX's host swapping does (paper §3.3) without
 * owning its memory: it names ranges of the QEMU process's guest RAM and asks the kernel to reclaim
 * them now. MADV_PAGEOUT writes anonymous pages to swap (so it does nothing to them where the host
 * has no swap) and drops clean file pages. Advising another process needs PTRACE_MODE_READ on it
 * and CAP_SYS_NICE. The pidfd pins the process's identity: a PID reused after the process exits
 * cannot be advised by mistake (the call fails with ESRCH instead).
 */
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Native;

/// <summary>A range of a process's address space.</summary>
/// <param name="Start">First address (page-aligned).</param>
/// <param name="LengthBytes">Length in bytes (a multiple of the page size).</param>
public readonly record struct AddressRange(ulong Start, ulong LengthBytes);

/// <summary>A pidfd of another process, for advising its memory.</summary>
public sealed partial class RemoteProcess : IDisposable
{
    private const int PageOutAdvice = 21; // MADV_PAGEOUT
    private readonly SafeFileHandle _pidfd;

    private RemoteProcess(int pid, SafeFileHandle pidfd)
    {
        Pid = pid;
        _pidfd = pidfd;
    }

    /// <summary>The process's PID.</summary>
    public int Pid { get; }

    /// <summary>Opens a pidfd of <paramref name="pid"/>.</summary>
    /// <exception cref="ErrnoException">No such process (ESRCH) or pidfd_open unsupported (ENOSYS).</exception>
    public static RemoteProcess Open(int pid)
    {
        var fd = PidfdOpen(pid, 0);
        return fd < 0 ? throw ErrnoException.FromLastError($"pidfd_open({pid})") : new RemoteProcess(pid, new SafeFileHandle(fd, ownsHandle: true));
    }

    /// <summary>
    /// Asks the kernel to page out <paramref name="ranges"/> of the process now (MADV_PAGEOUT), in
    /// calls of up to 1024 ranges; returns the bytes advised.
    /// </summary>
    /// <exception cref="ErrnoException">The process exited (ESRCH), no permission (EPERM), or a range is invalid (EINVAL, ENOMEM).</exception>
    public unsafe long PageOut(ReadOnlySpan<AddressRange> ranges)
    {
        long advised = 0;
        var vectors = stackalloc ProcessMadviseNative.IoVector[ProcessMadviseNative.MaxRanges];
        while (!ranges.IsEmpty)
        {
            var batch = ranges[..Math.Min(ranges.Length, ProcessMadviseNative.MaxRanges)];
            for (var i = 0; i < batch.Length; i++)
            {
                vectors[i].Base = (nint)batch[i].Start;
                vectors[i].LengthBytes = (nuint)batch[i].LengthBytes;
            }

            // SAFETY: vectors holds batch.Length initialised entries in this frame's stack memory;
            // the addresses name the other process's memory, which the kernel checks (no access here).
            var bytes = ProcessMadviseNative.ProcessMadvise(_pidfd, vectors, (nuint)batch.Length, PageOutAdvice, 0);
            if (bytes < 0)
            {
                throw ErrnoException.FromLastError($"process_madvise(pid {Pid}, MADV_PAGEOUT)");
            }

            advised += bytes;
            ranges = ranges[batch.Length..];
        }

        return advised;
    }

    /// <inheritdoc/>
    public void Dispose() => _pidfd.Dispose();

    [LibraryImport("libc", EntryPoint = "pidfd_open", SetLastError = true)]
    private static partial int PidfdOpen(int pid, uint flags);
}
