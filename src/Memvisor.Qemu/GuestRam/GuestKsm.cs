/*
 * What KSM saves for one QEMU process, read-only from procfs (Linux 6.1+):
 *   /proc/PID/ksm_merging_pages   pages of this process currently merged into KSM pages
 *   /proc/PID/ksm_stat            "ksm_rmap_items N", "ksm_zero_pages N", "ksm_merging_pages N",
 *                                 "ksm_process_profit N", "ksm_merge_any: yes|no", "ksm_mergeable: yes|no"
 * (the lines present depend on the kernel). A process's merging pages are the memory KSM saves for
 * it, counted on its side; /proc/PID/smaps_rollup's "KSM:" line is the same figure in kB (equal when
 * read while ksmd is settled: 145.6 MiB both, two guests here). Guest RAM holds most of it, not all:
 * QEMU's firmware blobs (ACPI tables, option ROMs) are mergeable RAM blocks too (2.3 MiB of 145.6).
 * Nothing here changes a KSM knob.
 */
using System.Globalization;

namespace Memvisor.Qemu.GuestRam;

/// <summary>KSM's figures for one process.</summary>
/// <param name="MergingPages">Pages of the process merged into KSM pages.</param>
/// <param name="ZeroPages">Pages merged with the zero page (use_zero_pages=1), if the kernel says.</param>
/// <param name="Mergeable">The process has mergeable memory (ksm_mergeable), if the kernel says.</param>
public sealed record GuestKsm(long MergingPages, long? ZeroPages, bool? Mergeable)
{
    /// <summary>The "KSM:" line of /proc/PID/smaps_rollup in bytes (every mapping of the process); null if absent.</summary>
    public static long? ReadRollupKsmBytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/smaps_rollup").FirstOrDefault(l => l.StartsWith("KSM:", StringComparison.Ordinal));
            return line is null ? null : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Reads the figures of <paramref name="pid"/>; null when the process is gone or the kernel has no per-process KSM files.</summary>
    public static GuestKsm? Read(int pid)
    {
        try
        {
            var merging = long.Parse(File.ReadAllText($"/proc/{pid}/ksm_merging_pages").Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
            long? zero = null;
            bool? mergeable = null;
            var stat = $"/proc/{pid}/ksm_stat";
            if (File.Exists(stat))
            {
                foreach (var line in File.ReadLines(stat))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length != 2)
                    {
                        continue;
                    }

                    if (parts[0] == "ksm_zero_pages" && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var z))
                    {
                        zero = z;
                    }
                    else if (parts[0] == "ksm_mergeable")
                    {
                        mergeable = parts[1] == "yes";
                    }
                }
            }

            return new GuestKsm(merging, zero, mergeable);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }
}
