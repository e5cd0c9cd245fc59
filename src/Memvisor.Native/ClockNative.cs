/*
 * Clocks: CPU time of this process and of the calling thread (clock_gettime(2)), of its waited-for
 * children (getrusage(RUSAGE_CHILDREN)), and the kernel's clock tick (sysconf(_SC_CLK_TCK)) that
 * /proc/<pid>/stat counts utime and stime in.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Native;

/// <summary>CPU-time clocks of Linux, in nanoseconds.</summary>
public static partial class CpuClock
{
    private const int ClockProcessCpuTimeId = 2;
    private const int ClockThreadCpuTimeId = 3;
    private const int ScClockTicks = 2;
    private const int RusageChildren = -1;

    /// <summary>CPU time consumed by all threads of this process so far.</summary>
    public static long ProcessCpuNanoseconds() => Read(ClockProcessCpuTimeId, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");

    /// <summary>CPU time consumed by the calling thread so far.</summary>
    public static long ThreadCpuNanoseconds() => Read(ClockThreadCpuTimeId, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");

    /// <summary>
    /// User and system CPU time of every child process this process has waited for (terminated and
    /// reaped), added up: the difference across one child's run is that child's CPU time.
    /// </summary>
    public static long ChildrenCpuNanoseconds()
    {
        if (GetRusage(RusageChildren, out var usage) != 0)
        {
            throw ErrnoException.FromLastError("getrusage(RUSAGE_CHILDREN)");
        }

        return ((usage.UserSeconds + usage.SystemSeconds) * 1_000_000_000L) + ((usage.UserMicroseconds + usage.SystemMicroseconds) * 1000L);
    }

    /// <summary>Clock ticks per second of /proc/&lt;pid&gt;/stat's utime and stime (USER_HZ, normally 100).</summary>
    public static long ClockTicksPerSecond()
    {
        var ticks = Sysconf(ScClockTicks);
        return ticks > 0 ? ticks : throw ErrnoException.FromLastError("sysconf(_SC_CLK_TCK)");
    }

    private static long Read(int clockId, string call)
    {
        if (ClockGettime(clockId, out var time) != 0)
        {
            throw ErrnoException.FromLastError(call);
        }

        return (time.Seconds * 1_000_000_000L) + time.Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGettime(int clockId, out Timespec time);

    [LibraryImport("libc", EntryPoint = "sysconf", SetLastError = true)]
    private static partial long Sysconf(int name);

    [LibraryImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static partial int GetRusage(int who, out Rusage usage);

    // struct rusage on 64-bit Linux: two timevals, then 14 longs.
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public unsafe fixed long Rest[14];
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }
}
