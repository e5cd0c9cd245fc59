/*
 * prctl(2) PR_SET_THP_DISABLE / PR_GET_THP_DISABLE: whether transparent huge pages may back this
 * process's memory. The flag lives in the process's mm and is inherited by children across fork and
 * execve, which is how a QEMU started by Memvisor gets its guest RAM in 4 KiB pages: a working-set
 * measurement through clear_refs + smaps "Referenced" counts whole huge pages otherwise (36-48 MiB
 * too much on a 256 MiB working set here).
 *
 * PENDING MOVE: this file belongs in Memvisor.Native (issue 10); it sits here, apart, until the split
 * lands on main.
 */
using System.Runtime.InteropServices;
using Memvisor.Kvm.Native;

namespace Memvisor.Qemu.NativePending;

/// <summary>The THP-disable flag of the calling process.</summary>
internal static partial class PrctlNative
{
    private const int SetThpDisable = 41;
    private const int GetThpDisable = 42;

    /// <summary>True when THP is disabled for this process.</summary>
    public static bool IsThpDisabled()
    {
        var result = Prctl(GetThpDisable, 0, 0, 0, 0);
        return result < 0 ? throw new ErrnoException("prctl(PR_GET_THP_DISABLE)", Marshal.GetLastPInvokeError()) : result != 0;
    }

    /// <summary>Disables (or re-enables) THP for this process and the children it starts from now on.</summary>
    public static void SetThpDisabled(bool disabled)
    {
        if (Prctl(SetThpDisable, disabled ? 1u : 0u, 0, 0, 0) < 0)
        {
            throw new ErrnoException("prctl(PR_SET_THP_DISABLE)", Marshal.GetLastPInvokeError());
        }
    }

    [LibraryImport("libc", EntryPoint = "prctl", SetLastError = true)]
    private static partial int Prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
