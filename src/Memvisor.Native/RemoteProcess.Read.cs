/*
 * Another process's memory, read with process_vm_readv(2): many address ranges copied into one
 * buffer in one system call, without going through /proc/PID/mem's file interface.
 *
 * Problem. `memvisor scan` reads every resident page of a process. pread on /proc/PID/mem reads one
 * contiguous address range per call; a batch of pages that spans several runs of resident pages costs
 * a call per run. process_vm_readv takes up to 1024 remote ranges (UIO_MAXIOV) and one local buffer.
 *
 * Identity. process_vm_readv names the process by PID, which the kernel may hand to a new process
 * once the old one has exited and been reaped. A read counts only if the RemoteProcess's pidfd still
 * names a live process (pidfd_send_signal with signal 0) after the copy: a live process keeps its
 * PID, so the copy came from it. A process that has exited reads as gone.
 *
 * Errors. The reads return the errno instead of throwing (an unreadable page must not cost an
 * exception per page): ESRCH the process is gone; EPERM, EACCES or ENOSYS the kernel refuses this
 * call (ptrace rules, seccomp) and the caller reads /proc/PID/mem instead; EFAULT or EIO a range
 * cannot be read (device memory, a range unmapped meanwhile). A partial copy stops at the first range
 * that failed. Opening throws a typed ErrnoException.
 */
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Memvisor.Native;

/// <summary>What a <see cref="RemoteProcess.Read"/> did.</summary>
/// <param name="Bytes">Bytes copied from the start of the ranges (a prefix: the copy stops at the first range that failed).</param>
/// <param name="Errno">0 when every range was copied; otherwise the errno of the call that stopped (ESRCH when the process is gone).</param>
public readonly record struct ProcessReadResult(long Bytes, int Errno);

/// <summary>Reading another process's memory with process_vm_readv (see the file header).</summary>
public sealed partial class RemoteProcess
{
    /// <summary>Most remote ranges one read takes (UIO_MAXIOV).</summary>
    public const int MaxReadRanges = ProcessMadviseNative.MaxRanges;

    /// <summary>No such process.</summary>
    public const int Esrch = 3;

    /// <summary>
    /// True when errno <paramref name="errno"/> from <see cref="Read"/> means the kernel refuses
    /// process_vm_readv for this process (EPERM, EACCES, ENOSYS: ptrace rules, a seccomp filter), so
    /// another way of reading (/proc/PID/mem) may still work.
    /// </summary>
    public static bool IsRefusal(int errno) => errno is 1 or 13 or 38;

    /// <summary>
    /// Copies the remote <paramref name="ranges"/> (at most <see cref="MaxReadRanges"/>, in order) into
    /// <paramref name="buffer"/>, back to back, in one call. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">More ranges than one call takes, or the buffer is smaller than the ranges.</exception>
    public unsafe ProcessReadResult Read(ReadOnlySpan<AddressRange> ranges, Span<byte> buffer)
    {
        if (ranges.Length > MaxReadRanges)
        {
            throw new ArgumentException($"At most {MaxReadRanges} ranges per read; {ranges.Length} were given.", nameof(ranges));
        }

        ulong total = 0;
        var remote = stackalloc ProcessMadviseNative.IoVector[ranges.Length];
        for (var i = 0; i < ranges.Length; i++)
        {
            remote[i].Base = (nint)ranges[i].Start;
            remote[i].LengthBytes = (nuint)ranges[i].LengthBytes;
            total += ranges[i].LengthBytes;
        }

        if (total > (ulong)buffer.Length)
        {
            throw new ArgumentException($"The ranges hold {total} bytes; the buffer {buffer.Length}.", nameof(buffer));
        }

        if (total == 0)
        {
            return new ProcessReadResult(0, 0);
        }

        nint copied;
        fixed (byte* local = buffer)
        {
            var localVector = new ProcessMadviseNative.IoVector { Base = (nint)local, LengthBytes = (nuint)total };

            // SAFETY: localVector names `total` bytes of the pinned buffer (checked above: total <= buffer.Length);
            // remote holds ranges.Length initialised entries on this frame's stack. The remote addresses name
            // the other process's memory, which the kernel checks; nothing here dereferences them.
            copied = ProcessVmReadv(Pid, &localVector, 1, remote, (nuint)ranges.Length, 0);
        }

        var errno = copied < 0 ? Marshal.GetLastPInvokeError() : 0;
        if (!IsAlive())
        {
            // The PID may name another process by now: nothing copied counts.
            return new ProcessReadResult(0, Esrch);
        }

        return copied < 0 ? new ProcessReadResult(0, errno) : new ProcessReadResult(copied, (ulong)copied == total ? 0 : errno);
    }

    /// <summary>The pidfd's process has not exited (a zombie not yet reaped still counts as alive: its PID is taken).</summary>
    public bool IsAlive() => PidfdSendSignal(_pidfd, 0, 0, 0) == 0 || Marshal.GetLastPInvokeError() != Esrch;

    [LibraryImport("libc", EntryPoint = "process_vm_readv", SetLastError = true)]
    private static unsafe partial nint ProcessVmReadv(int pid, ProcessMadviseNative.IoVector* local, nuint localCount, ProcessMadviseNative.IoVector* remote, nuint remoteCount, nuint flags);

    [LibraryImport("libc", EntryPoint = "pidfd_send_signal", SetLastError = true)]
    private static partial int PidfdSendSignal(SafeFileHandle pidfd, int signal, nint info, uint flags);
}
