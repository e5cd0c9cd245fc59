/*
 * What a QEMU process read back from disk, for counting the page-ins of file-backed guest RAM per
 * guest rather than host-wide: /proc/PID/stat's majflt (field 12: faults that had to wait for the page
 * to come in; a fault on a hole of the sparse RAM file counts too) and /proc/PID/io's read_bytes (bytes
 * QEMU's threads caused to be read from storage, readahead included; a hole is not read). QEMU's reads
 * of its guest's disks count in read_bytes as well, but only when the host page cache misses them.
 */
using System.Globalization;
using Memvisor.Linux.Procfs;

namespace Memvisor.Qemu.GuestRam;

/// <summary>A QEMU process's major faults and storage reads so far.</summary>
/// <param name="MajorFaults">Major page faults (/proc/PID/stat majflt).</param>
/// <param name="ReadBytes">Bytes read from storage (/proc/PID/io read_bytes).</param>
public readonly record struct QemuPageIns(long MajorFaults, long ReadBytes)
{
    /// <summary>The counters of <paramref name="pid"/> now; null when the process is gone or they are unreadable.</summary>
    public static QemuPageIns? Read(int pid)
    {
        try
        {
            // After "(comm) ": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt ...
            var fields = ProcStat.FieldsAfterComm(File.ReadAllText($"/proc/{pid}/stat"));
            var io = File.ReadAllLines($"/proc/{pid}/io");
            var read = io.Where(l => l.StartsWith("read_bytes:", StringComparison.Ordinal)).Select(l => l["read_bytes:".Length..].Trim()).FirstOrDefault();
            return fields.Length > 9 && read is not null
                ? new QemuPageIns(long.Parse(fields[9], CultureInfo.InvariantCulture), long.Parse(read, CultureInfo.InvariantCulture))
                : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The counters since <paramref name="earlier"/>.</summary>
    public QemuPageIns Since(QemuPageIns earlier) => new(MajorFaults - earlier.MajorFaults, ReadBytes - earlier.ReadBytes);
}
