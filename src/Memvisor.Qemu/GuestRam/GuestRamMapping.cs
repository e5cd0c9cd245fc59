/*
 * Finding a QEMU guest's RAM in the QEMU process, and measuring it from outside.
 *
 * QEMU maps guest RAM as one private anonymous mapping of the configured size (for a -M pc guest
 * under 3.5 GiB). It is found in /proc/PID/maps as the anonymous mapping of exactly that size, else
 * the largest anonymous mapping at least that large. File-backed guest RAM (memory-backend-file,
 * share=on) is instead a shared mapping of that file: found by its path (maps(5) prints it, and
 * "(deleted)" after it once the file is unlinked), of at least the configured size.
 *
 * Per mapping, /proc/PID/smaps gives (kB): Rss (resident), Referenced (pages whose accessed bit is
 * set: touched since the last clear_refs), Swap, KSM (pages merged by KSM) and AnonHugePages. Writing
 * "1" to /proc/PID/clear_refs clears the accessed bits of all the process's pages; Referenced read a
 * period later is the guest's working set over that period, to about 1 MiB when THP is off for QEMU.
 * Reading smaps walks the mapping's page tables (1-65 ms under load): once per policy period.
 */
using Memvisor.Linux.Procfs;
using Memvisor.Native;

namespace Memvisor.Qemu.GuestRam;

/// <summary>The address range of a guest's RAM in its QEMU process.</summary>
/// <param name="Pid">The QEMU process.</param>
/// <param name="Start">First address.</param>
/// <param name="End">First address after the range.</param>
public sealed record GuestRamMapping(int Pid, ulong Start, ulong End)
{
    /// <summary>The file guest RAM is a shared mapping of (its offset 0 at Start), or null for anonymous RAM.</summary>
    public string? BackingFile { get; init; }

    /// <summary>The mapping's size in bytes.</summary>
    public long SizeBytes => (long)(End - Start);

    /// <summary>
    /// Finds the guest-RAM mapping of <paramref name="pid"/> for a guest of <paramref name="memoryBytes"/>,
    /// a shared mapping of <paramref name="backingFile"/> when given; null when there is none that large
    /// (QEMU has not mapped it yet, or has exited).
    /// </summary>
    public static GuestRamMapping? Find(int pid, long memoryBytes, string? backingFile = null)
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

        var mappings = ProcMaps.Parse(text);
        return backingFile is null ? FindIn(pid, mappings, memoryBytes) : FindFileIn(pid, mappings, memoryBytes, backingFile);
    }

    /// <summary>Picks the shared mapping of <paramref name="backingFile"/> at offset 0 among <paramref name="mappings"/>.</summary>
    internal static GuestRamMapping? FindFileIn(int pid, IEnumerable<ProcMapping> mappings, long memoryBytes, string backingFile) =>
        mappings
            .Where(m => m.Path == backingFile && m.Offset == 0 && (m.Access & MappingAccess.Shared) != 0 && (long)(m.End - m.Start) >= memoryBytes)
            .Select(m => new GuestRamMapping(pid, m.Start, m.End) { BackingFile = backingFile })
            .FirstOrDefault();

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

    /// <summary>
    /// What the host holds of file-backed guest RAM: the backing file's pages in the page cache
    /// (cachestat), mapped or not (a dirty page MADV_PAGEOUT unmapped is still held); null for
    /// anonymous RAM or when the file is gone.
    /// </summary>
    public long? ReadCachedBytes()
    {
        if (BackingFile is null)
        {
            return null;
        }

        try
        {
            using var file = FileWriteBack.Open(BackingFile);
            return file.Cache().CachedPages * 4096;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ErrnoException)
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
