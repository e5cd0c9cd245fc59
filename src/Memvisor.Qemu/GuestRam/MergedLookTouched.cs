/*
 * Pages ksmd merges look touched to an accessed-bit meter.
 *
 * When ksmd merges a guest page into a KSM page (or, with use_zero_pages, into the zero page) it
 * replaces the page's PTE with one built from the mapping's protection bits, and on x86 those include
 * the accessed bit. So pages merged during a sampling period count in smaps "Referenced" although the
 * guest never touched them: on this host's kernel (Linux 6.18) both pages of every merged pair did
 * (MergedLookTouchedTests: 4,096 of 4,096 merged pages referenced, none written). The error is largest
 * where the idle tax matters most: an idle guest whose pages are identical to another guest's. Seen on
 * real guests: an idle guest whose agent touched nothing was estimated at 54.8 MiB while ksmd re-merged
 * its pages with an active guest's; locally, each rise of an idle guest's merged pages showed as the
 * same rise of its referenced pages.
 *
 * The correction takes the period's growth in merged pages off the referenced count (never below zero).
 * It is exact for pages merged and not touched. A page the guest did touch in the period and that was
 * also merged in it is taken off too (a read-mostly page can be both), so while ksmd is converging an
 * active guest's count can be low by at most the pages merged in the period; unmerging (a write that
 * breaks a shared page) lowers the growth, so such writes are never taken off.
 */
namespace Memvisor.Qemu.GuestRam;

/// <summary>Referenced pages less the pages ksmd merged in the same period (see the file header).</summary>
public static class MergedLookTouched
{
    /// <summary>
    /// The pages the guest touched: <paramref name="referencedPages"/> less the growth of its merged
    /// pages from <paramref name="mergedPagesAtPeriodStart"/> to <paramref name="mergedPagesNow"/>
    /// (no correction when either is unknown), never below zero.
    /// </summary>
    public static long TouchedPages(long referencedPages, long? mergedPagesNow, long? mergedPagesAtPeriodStart)
    {
        var merged = mergedPagesNow is { } now && mergedPagesAtPeriodStart is { } start ? Math.Max(0, now - start) : 0;
        return Math.Max(0, referencedPages - merged);
    }
}
