/*
 * One line that says what machine a measurement ran on: CPU model (from /proc/cpuinfo's first
 * "model name"), cores, kernel and .NET version. Every benchmark figure is printed with it, since a
 * ratio measured on one CPU says little about another.
 */
using System.Runtime.InteropServices;

namespace Memvisor.Linux.Procfs;

/// <summary>Describes the machine for benchmark reports.</summary>
public static class HostDescription
{
    /// <summary>E.g. "AMD EPYC, 2 cores, Linux 6.1.0 ..., .NET 10.0.0".</summary>
    public static string Line(string cpuinfoPath = "/proc/cpuinfo") =>
        $"{CpuModel(cpuinfoPath)}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";

    /// <summary>The CPU's model name, or "unknown CPU" where /proc/cpuinfo does not say.</summary>
    public static string CpuModel(string cpuinfoPath = "/proc/cpuinfo")
    {
        try
        {
            foreach (var line in File.ReadLines(cpuinfoPath))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux, or /proc not mounted: say so rather than fail a benchmark.
        }

        return "unknown CPU";
    }
}
