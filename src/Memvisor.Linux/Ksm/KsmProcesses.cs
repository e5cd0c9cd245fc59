/*
 * Which processes are registered with KSM, from /proc/PID/ksm_stat (Linux 6.1+).
 *
 * ksmd is one kernel thread for the whole host: it walks every registered process's mergeable ranges,
 * merges what it finds and bills all of it to itself. A measurement of ksmd's CPU time on one buffer is
 * therefore only valid when no other process is registered (QEMU marks guest RAM mergeable by default).
 * A process counts as registered when ksm_stat says ksm_mergeable: yes or ksm_merge_any: yes (kernels
 * that print those lines), or when it has reverse-map items (ksm_rmap_items > 0: ksmd has scanned it).
 * Processes that exit while being read are skipped; unreadable ones are reported as unknown.
 */
using System.Globalization;

namespace Memvisor.Linux.Ksm;

/// <summary>A process registered with KSM.</summary>
/// <param name="Pid">Its process id.</param>
/// <param name="Command">Its command name (/proc/PID/comm).</param>
/// <param name="RmapItems">Reverse-map items ksmd holds for it.</param>
public sealed record KsmRegisteredProcess(int Pid, string Command, long RmapItems);

/// <summary>Reads KSM registration per process.</summary>
public static class KsmProcesses
{
    /// <summary>The processes registered with KSM under <paramref name="procRoot"/>, except <paramref name="exceptPid"/>, in pid order.</summary>
    public static IReadOnlyList<KsmRegisteredProcess> Registered(string procRoot, int exceptPid)
    {
        ArgumentException.ThrowIfNullOrEmpty(procRoot);
        var found = new List<KsmRegisteredProcess>();
        foreach (var dir in Directory.EnumerateDirectories(procRoot))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == exceptPid)
            {
                continue;
            }

            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(dir, "ksm_stat"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue; // exited, a kernel without ksm_stat, or not ours to read
            }

            if (Parse(lines) is { } rmapItems)
            {
                found.Add(new KsmRegisteredProcess(pid, Command(dir), rmapItems));
            }
        }

        found.Sort((a, b) => a.Pid.CompareTo(b.Pid));
        return found;
    }

    /// <summary>The rmap item count when the ksm_stat lines say the process is registered, otherwise null.</summary>
    internal static long? Parse(IEnumerable<string> lines)
    {
        long rmap = 0;
        var registered = false;
        foreach (var line in lines)
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var (key, value) = colon >= 0
                ? (line[..colon].Trim(), line[(colon + 1)..].Trim())
                : (line.Split(' ', 2)[0], line.Split(' ', 2).ElementAtOrDefault(1)?.Trim() ?? "");
            switch (key)
            {
                case "ksm_rmap_items" when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n):
                    rmap = n;
                    registered |= n > 0;
                    break;
                case "ksm_mergeable" or "ksm_merge_any":
                    registered |= value == "yes";
                    break;
            }
        }

        return registered ? rmap : null;
    }

    private static string Command(string dir)
    {
        try
        {
            return File.ReadAllText(Path.Combine(dir, "comm")).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }
}
