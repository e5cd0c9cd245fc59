/*
 * Host paging in flight. process_madvise(MADV_PAGEOUT) returns as soon as the kernel has taken the
 * ranges; the pages leave RSS while the kernel writes them to swap, a little later. A policy that
 * reads RSS on the next tick would see the VM still above target and page it again. So each VM keeps
 * the pages advised and not yet seen gone: advised pages are added; every sample, the fall in RSS
 * since the previous sample is taken off them (pages the kernel has written out); what is left after
 * the expiry time is dropped (the kernel skipped those pages: locked, shared with another process or
 * touched again, and RSS will not fall for them). The meter serves consumed pages less what is in
 * flight, so those pages are not paged twice.
 */
namespace Memvisor.Qemu.Substrate;

/// <summary>Pages advised out and not yet gone from RSS, for one VM.</summary>
public sealed class PageOutInFlight
{
    /// <summary>How long advised pages count as in flight at most.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromSeconds(5);

    private TimeSpan _age;

    /// <summary>Pages advised out whose RSS has not fallen yet.</summary>
    public long Pages { get; private set; }

    /// <summary>Records <paramref name="pages"/> just advised out.</summary>
    public void Advised(long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        if (pages == 0)
        {
            return;
        }

        Pages += pages;
        _age = TimeSpan.Zero;
    }

    /// <summary>A new sample: RSS went from <paramref name="previousRssPages"/> to <paramref name="rssPages"/> over <paramref name="elapsed"/>.</summary>
    public void Observed(long previousRssPages, long rssPages, TimeSpan elapsed)
    {
        if (Pages == 0)
        {
            return;
        }

        Pages = Math.Max(0, Pages - Math.Max(0, previousRssPages - rssPages));
        _age += elapsed;
        if (_age >= Expiry)
        {
            Pages = 0;
        }
    }
}
