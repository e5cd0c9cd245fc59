/*
 * A failed Linux system call, as a typed exception.
 *
 * Problem. libc reports failure through errno, which .NET keeps per thread after a call marked
 * SetLastError = true. A bare Win32Exception or IOException loses which call failed and which errno
 * it was; callers (and people reading logs) need both, e.g. "madvise(MADV_MERGEABLE) failed: EINVAL".
 *
 * Data. The errno number, its symbolic name (from a small table of Linux x86-64/arm64 names; unknown
 * numbers print as "errno N") and the call that failed.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>A Linux system call failed; carries the errno and the call.</summary>
public sealed class ErrnoException : Exception
{
    /// <summary>Creates an exception for <paramref name="call"/> failing with <paramref name="errno"/>.</summary>
    public ErrnoException(string call, int errno)
        : base($"{call} failed: {ErrnoNames.NameOf(errno)} ({Marshal.GetPInvokeErrorMessage(errno)})")
    {
        Call = call;
        Errno = errno;
    }

    /// <summary>Creates an exception with a message only (for serializers and analyzers).</summary>
    public ErrnoException()
        : this("unknown call", 0)
    {
    }

    /// <summary>Creates an exception with a message only.</summary>
    public ErrnoException(string message)
        : base(message)
    {
        Call = "unknown call";
    }

    /// <summary>Creates an exception with a message and an inner exception.</summary>
    public ErrnoException(string message, Exception innerException)
        : base(message, innerException)
    {
        Call = "unknown call";
    }

    /// <summary>The call that failed, with its decisive argument, e.g. "madvise(MADV_MERGEABLE)".</summary>
    public string Call { get; }

    /// <summary>The errno value.</summary>
    public int Errno { get; }

    /// <summary>The errno's symbolic name, e.g. "EINVAL".</summary>
    public string ErrnoName => ErrnoNames.NameOf(Errno);

    /// <summary>Throws for <paramref name="call"/> with the errno the last P/Invoke left.</summary>
    internal static ErrnoException FromLastError(string call) => new(call, Marshal.GetLastPInvokeError());
}
