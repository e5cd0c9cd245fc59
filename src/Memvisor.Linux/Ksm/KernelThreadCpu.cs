/*
 * CPU time of a kernel thread (here ksmd), read from procfs.
 *
 * KSM's work happens in the ksmd kernel thread, not in the process whose memory it merges, so its
 * cost is ksmd's CPU time: utime + stime of /proc/<pid>/stat (in clock ticks, USER_HZ), and, more
 * finely, the first field of /proc/<pid>/schedstat (nanoseconds on CPU) where the kernel has it.
 * The thread is found by its comm name among /proc/<pid>, keeping only kernel threads (PF_KTHREAD in
 * the stat flags) so that a user process named "ksmd" cannot stand in for it. The procfs root is
 * injectable for tests.
 */
using System.Globalization;
using Memvisor.Linux.Procfs;

namespace Memvisor.Linux.Ksm;

/// <summary>Reads the CPU time of one kernel thread.</summary>
public sealed class KernelThreadCpu
{
    private const long KernelThreadFlag = 0x0020_0000;
    private readonly string _statPath;
    private readonly string _schedstatPath;
    private readonly long _clockTicksPerSecond;

    /// <summary>Reads thread <paramref name="pid"/> under <paramref name="procRoot"/>; stat counts in <paramref name="clockTicksPerSecond"/>.</summary>
    public KernelThreadCpu(int pid, long clockTicksPerSecond, string procRoot = "/proc")
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clockTicksPerSecond);
        Pid = pid;
        _clockTicksPerSecond = clockTicksPerSecond;
        _statPath = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "stat");
        _schedstatPath = Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "schedstat");
    }

    /// <summary>The thread's pid.</summary>
    public int Pid { get; }

    /// <summary>The pid of the kernel thread named <paramref name="comm"/>, or null when there is none.</summary>
    public static int? FindKernelThread(string comm, string procRoot = "/proc")
    {
        foreach (var directory in Directory.EnumerateDirectories(procRoot))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllText(Path.Combine(directory, "comm")).TrimEnd('\n') == comm
                    && (ParseStat(File.ReadAllText(Path.Combine(directory, "stat"))).Flags & KernelThreadFlag) != 0)
                {
                    return pid;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process exited while we looked, or is not readable: not the one we want.
            }
        }

        return null;
    }

    /// <summary>utime + stime, in nanoseconds (resolution: one clock tick).</summary>
    public long StatCpuNanoseconds()
    {
        var stat = ParseStat(File.ReadAllText(_statPath));
        return (stat.UserTicks + stat.SystemTicks) * (1_000_000_000L / _clockTicksPerSecond);
    }

    /// <summary>Nanoseconds on CPU from schedstat, or null when the kernel does not provide it.</summary>
    public long? SchedstatCpuNanoseconds()
    {
        if (!File.Exists(_schedstatPath))
        {
            return null;
        }

        var text = File.ReadAllText(_schedstatPath);
        var end = text.IndexOf(' ', StringComparison.Ordinal);
        return long.TryParse(end < 0 ? text.Trim() : text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var nanoseconds)
            ? nanoseconds
            : null;
    }

    /// <summary>The best CPU figure available: schedstat if present, else stat.</summary>
    public long CpuNanoseconds() => SchedstatCpuNanoseconds() ?? StatCpuNanoseconds();

    /// <summary>Flags, utime and stime of a /proc/&lt;pid&gt;/stat line (comm may hold spaces and parentheses).</summary>
    internal static (long Flags, long UserTicks, long SystemTicks) ParseStat(string statLine)
    {
        // After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
        var fields = ProcStat.FieldsAfterComm(statLine);
        if (fields.Length < 13)
        {
            throw new FormatException($"A /proc/<pid>/stat line has {fields.Length} fields after comm; at least 13 expected.");
        }

        return (Parse(fields[6]), Parse(fields[11]), Parse(fields[12]));
    }

    private static long Parse(string field) =>
        long.TryParse(field, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{field}' in /proc/<pid>/stat is not a number.");
}
