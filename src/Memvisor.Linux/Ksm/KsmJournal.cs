/*
 * The journal of a KsmController: the original value of every KSM knob it changed, on disk until it has
 * restored them, so that a process killed before restoring (SIGKILL, an OOM kill, a power-off of its
 * terminal) does not leave KSM changed for good.
 *
 * Problem. A journal nobody reads repairs nothing, and worse: the next controller reads the knobs the
 * killed one left (run=1, pages_to_scan 2000, sleep 0) and saves them as its "originals", so that from then
 * on every run restores the polluted values. So every controller with a journal folder, once it holds the
 * lock on the host's KSM (KsmController), first looks in that folder for journals of processes that are
 * gone, restores the originals each recorded, and deletes it; then it reads the knobs.
 *
 * Format. One journal per process, memvisor-ksm-journal-PID.txt, lines "key=value":
 *   #sysfs=DIR        the KSM directory the knobs belong to (a test's fake directory is never confused
 *                     with the host's, nor the host's with a test's);
 *   #pid=N            the process, and #started=TICKS its start time (field 22 of /proc/N/stat), so that a
 *                     PID the kernel has since given to another process is not taken for the owner;
 *   #nothing-merged-at-start=true|false   as KsmController uses it to stop ksmd (run=2 unmerges);
 *   knob=value        each knob's original value, in order of first change.
 * A journal of a live process (same PID, same start time, not a zombie) is left alone: that process may
 * still restore it. Earlier builds wrote memvisor-ksm-PID.journal without the # lines (the host's KSM);
 * those are recovered too.
 */
using System.Globalization;
using System.Text.RegularExpressions;
using Memvisor.Linux.Procfs;

namespace Memvisor.Linux.Ksm;

/// <summary>What a journal recorded.</summary>
/// <param name="SysfsDirectory">The KSM directory of the knobs.</param>
/// <param name="Pid">The process that wrote it (null when the name and contents give none).</param>
/// <param name="StartTicks">That process's start time, clock ticks after boot (null when not recorded).</param>
/// <param name="NothingMergedAtStart">No page was merged when the controller started.</param>
/// <param name="Originals">The original value of each knob changed.</param>
public sealed record KsmJournalContents(string SysfsDirectory, int? Pid, long? StartTicks, bool NothingMergedAtStart, IReadOnlyList<KnobSnapshot> Originals);

/// <summary>Reads and writes KSM journals and finds those their process left behind.</summary>
public static partial class KsmJournal
{
    private const string SysfsKey = "#sysfs";
    private const string PidKey = "#pid";
    private const string StartedKey = "#started";
    private const string NothingMergedKey = "#nothing-merged-at-start";

    /// <summary>The journal of process <paramref name="pid"/> in <paramref name="folder"/>.</summary>
    public static string PathFor(string folder, int pid) =>
        Path.Combine(folder, $"memvisor-ksm-journal-{pid.ToString(CultureInfo.InvariantCulture)}.txt");

    /// <summary>The start time of process <paramref name="pid"/> in clock ticks after boot (field 22 of its stat), or null when it does not exist or has exited (a zombie).</summary>
    public static long? StartTicksOf(int pid, string procRoot = "/proc")
    {
        string[] fields;
        try
        {
            // state (field 3) ... starttime (field 22).
            fields = ProcStat.FieldsAfterComm(File.ReadAllText(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "stat")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        if (fields.Length < 20 || fields[0] is "Z" or "X" or "x")
        {
            return null;
        }

        return long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    /// <summary>Writes the journal at <paramref name="path"/> in one step (a reader never sees half of it).</summary>
    public static void Write(string path, KsmJournalContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        var lines = new List<string> { $"{SysfsKey}={contents.SysfsDirectory}" };
        if (contents.Pid is { } pid)
        {
            lines.Add($"{PidKey}={pid.ToString(CultureInfo.InvariantCulture)}");
        }

        if (contents.StartTicks is { } ticks)
        {
            lines.Add($"{StartedKey}={ticks.ToString(CultureInfo.InvariantCulture)}");
        }

        lines.Add($"{NothingMergedKey}={(contents.NothingMergedAtStart ? "true" : "false")}");
        lines.AddRange(contents.Originals.Select(o => $"{o.Knob}={o.Value}"));
        var temporary = path + ".tmp";
        File.WriteAllLines(temporary, lines);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a journal; a journal without #sysfs (an earlier build's) is the host's KSM, without #pid the PID in its name.</summary>
    public static KsmJournalContents Read(string path)
    {
        string sysfs = KsmSysfs.DefaultDirectory;
        int? pid = PidInName(path);
        long? started = null;
        var nothingMerged = false;
        var originals = new List<KnobSnapshot>();
        foreach (var line in File.ReadAllLines(path))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var (key, value) = (line[..equals], line[(equals + 1)..]);
            switch (key)
            {
                case SysfsKey:
                    sysfs = value;
                    break;
                case PidKey when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var p):
                    pid = p;
                    break;
                case StartedKey when long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var t):
                    started = t;
                    break;
                case NothingMergedKey:
                    nothingMerged = value == "true";
                    break;
                default:
                    if (!key.StartsWith('#'))
                    {
                        originals.Add(new KnobSnapshot(key, value));
                    }

                    break;
            }
        }

        return new KsmJournalContents(sysfs, pid, started, nothingMerged, originals);
    }

    /// <summary>
    /// The journals in <paramref name="folder"/> of KSM directory <paramref name="sysfsDirectory"/> whose process is
    /// gone (no such PID, a zombie, or a PID since given to a process that started at another time), and those
    /// of <paramref name="selfPid"/> (an earlier controller of this process that could not restore).
    /// </summary>
    public static IReadOnlyList<(string Path, KsmJournalContents Contents)> Abandoned(string folder, string sysfsDirectory, int selfPid, string procRoot = "/proc")
    {
        var found = new List<(string, KsmJournalContents)>();
        if (!Directory.Exists(folder))
        {
            return found;
        }

        foreach (var path in Directory.EnumerateFiles(folder, "memvisor-ksm-*").Where(p => PidInName(p) is not null).Order(StringComparer.Ordinal))
        {
            KsmJournalContents contents;
            try
            {
                contents = Read(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            if (contents.SysfsDirectory != sysfsDirectory || contents.Pid is not { } pid)
            {
                continue;
            }

            var live = pid != selfPid && StartTicksOf(pid, procRoot) is { } ticks && (contents.StartTicks is null || contents.StartTicks == ticks);
            if (!live)
            {
                found.Add((path, contents));
            }
        }

        return found;
    }

    private static int? PidInName(string path) =>
        JournalName().Match(Path.GetFileName(path)) is { Success: true } m && int.TryParse(m.Groups[1].ValueSpan.IsEmpty ? m.Groups[2].ValueSpan : m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;

    [GeneratedRegex(@"^memvisor-ksm-(?:journal-(\d+)\.txt|(\d+)\.journal)$")]
    private static partial Regex JournalName();
}
