/*
 * Host paging of a QEMU guest (paper §3.3 on a managing substrate): when a VM holds more than its
 * target and the balloon cannot take it back in time, the host reclaims pages of its guest RAM
 * itself. ESX picks victim pages at random, so as not to fight the guest's own replacement policy;
 * here the victims are randomly chosen ranges of the guest-RAM mapping (64 KiB each: small enough to
 * spread, large enough to keep the call count low), given to process_madvise(MADV_PAGEOUT).
 *
 * Anonymous guest RAM (QEMU's default): MADV_PAGEOUT writes anonymous pages to swap, so without host
 * swap it does nothing to guest RAM. The pager is available for such a guest only where /proc/swaps
 * lists a device, and says why not otherwise (the policy then relies on ballooning). Memvisor never
 * creates host swap unless the user asks.
 *
 * File-backed guest RAM (QemuGuestOptions.RamBackingFile: a shared mapping of a file on disk, in
 * effect ESX's per-VM swap file): no swap is needed, but MADV_PAGEOUT drops only clean file pages;
 * a dirty one is unmapped and stays in the page cache (RSS falls, host memory does not). So the
 * pager writes the victim ranges back first (FileWriteBack: sync_file_range, waited for), then
 * advises them out. Its victims are 2 MiB ranges, aligned: the page cache holds a file in folios
 * of up to 2 MiB (the guest's first touches fill it through readahead, which grows them to that
 * size), and MADV_PAGEOUT cannot drop part of a folio (on 6.18 random 64 KiB ranges of a guest's
 * file freed nothing, while its RSS fell). A later guest access faults the page back in from the file (a major fault of
 * QEMU, a read from disk). What the host holds of such a guest is the file's page cache
 * (cachestat), not the mapping's RSS. Counted per guest: the bytes reclaimed (the file's cached
 * pages before a call less after it: what the call freed, less what the guest faulted back during
 * it) and the dirty victim bytes written back first.
 */
using Memvisor.Native;

namespace Memvisor.Qemu.GuestRam;

/// <summary>Pages out random ranges of one guest's RAM.</summary>
public sealed class GuestPager : IDisposable
{
    /// <summary>The size of one victim range of anonymous guest RAM.</summary>
    public const long RangeBytes = 64 * 1024;

    /// <summary>The size of one victim range of file-backed guest RAM: the largest page-cache folio.</summary>
    public const long FileRangeBytes = 2 * 1024 * 1024;

    private readonly GuestRamMapping _mapping;
    private readonly RemoteProcess _process;
    private const int PageBytes = 4096;
    private readonly Random _random;
    private readonly FileWriteBack? _file;

    private GuestPager(GuestRamMapping mapping, RemoteProcess process, FileWriteBack? file, int seed)
    {
        _mapping = mapping;
        _process = process;
        _file = file;
        _random = new Random(seed);
    }

    /// <summary>Bytes this pager reclaimed from file-backed guest RAM (the drop of the file's page cache across its calls); 0 for anonymous RAM.</summary>
    public long ReclaimedBytes { get; private set; }

    /// <summary>Dirty victim bytes this pager wrote to the backing file before advising them out; 0 for anonymous RAM.</summary>
    public long WrittenBackBytes { get; private set; }

    /// <summary>Why host paging of <paramref name="mapping"/> is not possible, or null when it is: file-backed RAM needs no swap, anonymous RAM does.</summary>
    public static string? WhyUnavailable(GuestRamMapping mapping, string swapsPath = "/proc/swaps")
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return mapping.BackingFile is null ? WhyUnavailable(swapsPath) : null;
    }

    /// <summary>Why host paging of anonymous guest RAM is not possible here (no swap device), or null when it is.</summary>
    public static string? WhyUnavailable(string swapsPath = "/proc/swaps")
    {
        try
        {
            return File.ReadLines(swapsPath).Skip(1).Any(l => l.Trim().Length > 0)
                ? null
                : "the host has no swap: MADV_PAGEOUT cannot reclaim anonymous guest RAM, so VMs above target are only ballooned (file-backed guest RAM needs no swap)";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{swapsPath} is not readable ({e.Message}): host paging is off";
        }
    }

    /// <summary>Opens a pager for the guest whose RAM is <paramref name="mapping"/>; victims drawn with <paramref name="seed"/>.</summary>
    /// <exception cref="ErrnoException">The QEMU process is gone.</exception>
    /// <exception cref="IOException">The backing file of file-backed RAM cannot be opened.</exception>
    public static GuestPager Open(GuestRamMapping mapping, int seed)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var process = RemoteProcess.Open(mapping.Pid);
        try
        {
            return new GuestPager(mapping, process, mapping.BackingFile is { } path ? FileWriteBack.Open(path) : null, seed);
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The size of this pager's victim ranges.</summary>
    public long VictimBytes => _file is null ? RangeBytes : FileRangeBytes;

    /// <summary>
    /// A pager for <paramref name="mapping"/>, or null with the reason when host paging of it is not
    /// possible (anonymous RAM without host swap) or the pager cannot open (QEMU gone, the file unreadable).
    /// </summary>
    public static GuestPager? TryOpen(GuestRamMapping mapping, int seed, out string? whyNot)
    {
        whyNot = WhyUnavailable(mapping);
        if (whyNot is not null)
        {
            return null;
        }

        try
        {
            return Open(mapping, seed);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ErrnoException)
        {
            whyNot = $"the pager of guest RAM in process {mapping.Pid} could not open: {e.Message}";
            return null;
        }
    }

    /// <summary>
    /// <paramref name="bytes"/> worth of distinct random ranges of the mapping (VictimBytes each), sorted by address.
    /// </summary>
    public IReadOnlyList<AddressRange> ChooseVictims(long bytes)
    {
        var size = VictimBytes;
        var slots = _mapping.SizeBytes / size;
        var wanted = (int)Math.Min(slots, (bytes + size - 1) / size);
        var chosen = new HashSet<long>();
        while (chosen.Count < wanted)
        {
            chosen.Add(_random.NextInt64(slots));
        }

        return [.. chosen.Order().Select(slot => new AddressRange(_mapping.Start + (ulong)(slot * size), (ulong)size))];
    }

    /// <summary>
    /// Pages out about <paramref name="bytes"/> of random guest RAM (file-backed: written back first);
    /// returns the bytes advised.
    /// </summary>
    /// <exception cref="ErrnoException">The QEMU process is gone, or the kernel refused (e.g. EIO writing the backing file).</exception>
    public long PageOut(long bytes)
    {
        var victims = ChooseVictims(bytes);
        if (_file is null)
        {
            return _process.PageOut([.. victims]);
        }

        // Guest RAM starts at the file's offset 0 (GuestRamMapping.FindFileIn).
        var ranges = victims.Select(v => (OffsetBytes: (long)(v.Start - _mapping.Start), LengthBytes: (long)v.LengthBytes)).ToArray();
        var cachedBefore = _file.Cache().CachedPages;
        var dirtyPages = ranges.Sum(r => _file.Cache(r.OffsetBytes, r.LengthBytes).DirtyPages);
        _file.WriteBack(ranges);
        var advised = _process.PageOut([.. victims]);
        WrittenBackBytes += dirtyPages * PageBytes;
        ReclaimedBytes += Math.Max(0, cachedBefore - _file.Cache().CachedPages) * PageBytes;
        return advised;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _file?.Dispose();
        _process.Dispose();
    }
}
