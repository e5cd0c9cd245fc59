/*
 * Finding a QEMU guest's RAM in the QEMU process, and measuring it from outside.
 *
 * QEMU maps guest RAM as one private anonymous mapping of the configured size (for a -M pc guest
 * under 3.5 GiB). It is found in /proc/PID/maps as the anonymous mapping of exactly that size, else
 * the largest anonymous mapping at least that large.
 *
 * Per mapping, /proc/PID/smaps gives (kB): Rss (resident), Referenced (pages whose accessed bit is
 * set: touched since the last clear_refs), Swap, KSM (pages merged by KSM) and AnonHugePages. Writing
 * "1" to /proc/PID/clear_refs clears the accessed bits of all the process's pages; Referenced read a
 * period later is the guest's working set over that period, to about 1 MiB when THP is off for QEMU.
 * Reading smaps walks the mapping's page tables (1-65 ms under load): once per policy period.
 */
using Memvisor.Linux.Procfs;

namespace Memvisor.Qemu.GuestRam;

/// <summary>The address range of a guest's RAM in its QEMU process.</summary>
/// <param name="Pid">The QEMU process.</param>
/// <param name="Start">First address.</param>
/// <param name="End">First address after the range.</param>
public sealed record GuestRamMapping(int Pid, ulong Start, ulong End)
{
    /// <summary>The mapping's size in bytes.</summary>
    public long SizeBytes => (long)(End - Start);

    /// <summary>
    /// Finds the guest-RAM mapping of <paramref name="pid"/> for a guest of <paramref name="memoryBytes"/>;
    /// null when no anonymous mapping is that large (QEMU has not mapped it yet, or has exited).
    /// </summary>
    public static GuestRamMapping? Find(int pid, long memoryBytes)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return FindIn(pid, ProcMaps.Parse(text), memoryBytes);
    }

    /// <summary>Picks the guest-RAM mapping among <paramref name="mappings"/>.</summary>
    internal static GuestRamMapping? FindIn(int pid, IEnumerable<ProcMapping> mappings, long memoryBytes)
    {
        var anonymous = mappings
            .Where(m => m.Inode == 0 && m.Path.Length == 0 && (m.Access & MappingAccess.Shared) == 0 && (long)(m.End - m.Start) >= memoryBytes)
            .ToList();
        var chosen = anonymous.Where(m => (long)(m.End - m.Start) == memoryBytes).Cast<ProcMapping?>().FirstOrDefault()
            ?? anonymous.OrderByDescending(m => m.End - m.Start).Cast<ProcMapping?>().FirstOrDefault();
        return chosen is { } m ? new GuestRamMapping(pid, m.Start, m.End) : null;
    }

    /// <summary>The smaps figures of this mapping now; null when the process or mapping is gone.</summary>
    public GuestRamUsage? ReadUsage()
    {
        try
        {
            return GuestRamUsage.ParseSmaps(File.ReadLines($"/proc/{Pid}/smaps"), Start, End);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Clears the accessed bits of all of QEMU's pages (/proc/PID/clear_refs "1"); false if the process is gone.</summary>
    public bool ClearReferenced()
    {
        try
        {
            File.WriteAllText($"/proc/{Pid}/clear_refs", "1");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
