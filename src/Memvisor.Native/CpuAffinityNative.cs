/*
 * CPU affinity of one thread (sched_setaffinity(2)), for measurements that must not move between
 * cores (the simulation speed benchmark pins every thread of its process to one CPU).
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>Which CPUs a Linux thread may run on.</summary>
public static partial class CpuAffinity
{
    /// <summary>Lets thread <paramref name="tid"/> (0: the caller) run only on CPU <paramref name="cpu"/> (0..63).</summary>
    public static void PinThread(int tid, int cpu)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cpu, 63);
        var mask = 1UL << cpu;
        if (SchedSetAffinity(tid, sizeof(ulong), ref mask) != 0)
        {
            throw ErrnoException.FromLastError($"sched_setaffinity({tid})");
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int tid, nuint maskBytes, ref ulong mask);
}
