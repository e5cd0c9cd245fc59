/*
 * The machine's load average, printed with one-shot benchmark figures: the machine may be shared, and
 * its load explains wall times far above CPU times.
 */
namespace Memvisor.Benchmarks;

internal static class MachineLoad
{
    /// <summary>The 1, 5 and 15 minute load averages from /proc/loadavg, or "n/a".</summary>
    public static string LoadAverage()
    {
        var fields = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ') : [];
        return fields.Length >= 3 ? string.Join(' ', fields[..3]) : "n/a";
    }
}
