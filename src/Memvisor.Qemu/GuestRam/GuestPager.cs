/*
 * Host paging of a QEMU guest (paper §3.3 on a managing substrate): when a VM holds more than its
 * target and the balloon cannot take it back in time, the host reclaims pages of its guest RAM
 * itself. ESX picks victim pages at random, so as not to fight the guest's own replacement policy;
 * here the victims are randomly chosen ranges of the guest-RAM mapping (64 KiB each: small enough to
 * spread, large enough to keep the call count low), given to process_madvise(MADV_PAGEOUT).
 *
 * MADV_PAGEOUT writes anonymous pages to swap: without host swap it does nothing to guest RAM. So
 * the pager is available only where /proc/swaps lists a device, and says why not otherwise (the
 * policy then relies on ballooning). Memvisor never creates host swap unless the user asks.
 */
using Memvisor.Native;

namespace Memvisor.Qemu.GuestRam;

/// <summary>Pages out random ranges of one guest's RAM.</summary>
public sealed class GuestPager : IDisposable
{
    /// <summary>The size of one victim range.</summary>
    public const long RangeBytes = 64 * 1024;

    private readonly GuestRamMapping _mapping;
    private readonly RemoteProcess _process;
    private readonly Random _random;

    private GuestPager(GuestRamMapping mapping, RemoteProcess process, int seed)
    {
        _mapping = mapping;
        _process = process;
        _random = new Random(seed);
    }

    /// <summary>Why host paging is not possible here (no swap device), or null when it is.</summary>
    public static string? WhyUnavailable(string swapsPath = "/proc/swaps")
    {
        try
        {
            return File.ReadLines(swapsPath).Skip(1).Any(l => l.Trim().Length > 0)
                ? null
                : "the host has no swap: MADV_PAGEOUT cannot reclaim guest RAM, so VMs above target are only ballooned";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"{swapsPath} is not readable ({e.Message}): host paging is off";
        }
    }

    /// <summary>Opens a pager for the guest whose RAM is <paramref name="mapping"/>; victims drawn with <paramref name="seed"/>.</summary>
    /// <exception cref="ErrnoException">The QEMU process is gone.</exception>
    public static GuestPager Open(GuestRamMapping mapping, int seed)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        return new GuestPager(mapping, RemoteProcess.Open(mapping.Pid), seed);
    }

    /// <summary>
    /// <paramref name="bytes"/> worth of distinct random 64 KiB ranges of the mapping, sorted by address.
    /// </summary>
    public IReadOnlyList<AddressRange> ChooseVictims(long bytes)
    {
        var slots = _mapping.SizeBytes / RangeBytes;
        var wanted = (int)Math.Min(slots, (bytes + RangeBytes - 1) / RangeBytes);
        var chosen = new HashSet<long>();
        while (chosen.Count < wanted)
        {
            chosen.Add(_random.NextInt64(slots));
        }

        return [.. chosen.Order().Select(slot => new AddressRange(_mapping.Start + (ulong)(slot * RangeBytes), RangeBytes))];
    }

    /// <summary>Pages out about <paramref name="bytes"/> of random guest RAM; returns the bytes advised.</summary>
    /// <exception cref="ErrnoException">The QEMU process is gone, or the kernel refused.</exception>
    public long PageOut(long bytes) => _process.PageOut([.. ChooseVictims(bytes)]);

    /// <inheritdoc/>
    public void Dispose() => _process.Dispose();
}
