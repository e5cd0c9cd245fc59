/*
 * prctl(2) PR_SET_THP_DISABLE / PR_GET_THP_DISABLE: whether transparent huge pages may back the
 * calling process's memory. The flag lives in the process's mm and is inherited by children across
 * fork and execve: a process that sets it, starts a child and clears it again gives that child (and
 * nothing else) 4 KiB pages. The QEMU substrate starts QEMU this way, because a working-set
 * measurement through clear_refs + smaps "Referenced" counts whole 2 MiB pages under THP.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>The THP-disable flag of the calling process.</summary>
public static partial class TransparentHugePages
{
    private const int SetThpDisable = 41;
    private const int GetThpDisable = 42;

    /// <summary>True when THP is disabled for this process (and for children it starts).</summary>
    /// <exception cref="ErrnoException">prctl failed.</exception>
    public static bool IsDisabledForThisProcess()
    {
        var result = Prctl(GetThpDisable, 0, 0, 0, 0);
        return result < 0 ? throw ErrnoException.FromLastError("prctl(PR_GET_THP_DISABLE)") : result != 0;
    }

    /// <summary>Disables (or re-enables) THP for this process and the children it starts from now on.</summary>
    /// <exception cref="ErrnoException">prctl failed.</exception>
    public static void SetDisabledForThisProcess(bool disabled)
    {
        if (Prctl(SetThpDisable, disabled ? 1u : 0u, 0, 0, 0) < 0)
        {
            throw ErrnoException.FromLastError("prctl(PR_SET_THP_DISABLE)");
        }
    }

    // prctl is variadic in C; on x86-64 and arm64 passing the four optional arguments as fixed
    // integer arguments is the same call (no floating-point arguments are involved).
    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
