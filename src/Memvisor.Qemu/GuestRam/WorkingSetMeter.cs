/*
 * A QEMU guest's working set measured from outside and smoothed by Core's estimator (paper §5.3).
 *
 * ESX samples 100 random pages per period by invalidating their mappings and counting faults. On a
 * Linux host the hardware's accessed bits do better and cost less: clear_refs clears them for QEMU's
 * pages, and a period later smaps "Referenced" of the guest-RAM mapping counts every page the guest
 * touched (THP must be off for QEMU, else whole 2 MiB pages count). That count over the configured
 * pages is the period's fraction, fed to the same WorkingSetEstimator the simulator uses (slow and
 * fast averages, the partial count within a period); the estimate times configured pages is the
 * guest's active memory.
 *
 * Pages ksmd merged during the period look touched (their new PTEs are young); the growth of the
 * mapping's merged pages (smaps "KSM:") is taken off the count (MergedLookTouched).
 *
 * Each measurement costs a walk of the mapping's page tables (1-65 ms measured under load); the cost
 * of the last one is kept. Referenced also counts pages QEMU itself touched for the guest (virtio
 * rings, the balloon), a few hundred KiB.
 */
using System.Diagnostics;
using Memvisor.Core.Sampling;

namespace Memvisor.Qemu.GuestRam;

/// <summary>What one working-set measurement saw.</summary>
/// <param name="ReferencedPages">Guest pages touched since the period began (referenced, less the pages ksmd merged meanwhile).</param>
/// <param name="ConfiguredPages">The guest's configured pages (the denominator).</param>
/// <param name="EstimatePages">The estimator's active pages after this measurement.</param>
/// <param name="Cost">Wall time of the smaps read (and clear_refs, at a period's end).</param>
/// <param name="Usage">Everything that smaps read saw (RSS, swap, KSM...), so that no one reads it twice.</param>
public sealed record WorkingSetReading(long ReferencedPages, long ConfiguredPages, double EstimatePages, TimeSpan Cost, GuestRamUsage Usage);

/// <summary>Measures one guest's working set period by period.</summary>
public sealed class WorkingSetMeter
{
    private const int PageBytes = 4096;
    private readonly GuestRamMapping _mapping;
    private long? _mergedPagesAtPeriodStart;

    /// <summary>Measures the guest whose RAM is <paramref name="mapping"/>, smoothing with <paramref name="options"/>' gains.</summary>
    public WorkingSetMeter(GuestRamMapping mapping, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        _mapping = mapping;
        Estimator = new WorkingSetEstimator(options);
    }

    /// <summary>The estimator fed by this meter.</summary>
    public WorkingSetEstimator Estimator { get; }

    /// <summary>The guest's configured pages.</summary>
    public long ConfiguredPages => _mapping.SizeBytes / PageBytes;

    /// <summary>The estimated active pages: the estimate times the configured pages.</summary>
    public double ActivePages => Estimator.Estimate * ConfiguredPages;

    /// <summary>Begins a period (clears the accessed bits); false when QEMU is gone.</summary>
    public bool StartPeriod()
    {
        if (_mapping.ReadUsage() is not { } usage)
        {
            return false;
        }

        _mergedPagesAtPeriodStart = usage.KsmBytes / PageBytes;
        return _mapping.ClearReferenced();
    }

    /// <summary>Ends the period: counts the touched pages, feeds the estimator and begins the next period; null when QEMU is gone.</summary>
    public WorkingSetReading? CompletePeriod()
    {
        var clock = Stopwatch.StartNew();
        if (_mapping.ReadUsage() is not { } usage || !_mapping.ClearReferenced())
        {
            return null;
        }

        var touched = Touched(usage);
        _mergedPagesAtPeriodStart = usage.KsmBytes / PageBytes;
        Estimator.CompletePeriod(ClampToInt(touched), ClampToInt(ConfiguredPages));
        return new WorkingSetReading(touched, ConfiguredPages, ActivePages, clock.Elapsed, usage);
    }

    /// <summary>Counts the pages touched so far in this period, letting the estimate rise before the period ends; null when QEMU is gone.</summary>
    public WorkingSetReading? ObservePartial()
    {
        var clock = Stopwatch.StartNew();
        if (_mapping.ReadUsage() is not { } usage)
        {
            return null;
        }

        var touched = Touched(usage);
        Estimator.ObservePartial(ClampToInt(touched), ClampToInt(ConfiguredPages));
        return new WorkingSetReading(touched, ConfiguredPages, ActivePages, clock.Elapsed, usage);
    }

    private long Touched(GuestRamUsage usage) =>
        MergedLookTouched.TouchedPages(usage.ReferencedBytes / PageBytes, usage.KsmBytes / PageBytes, _mergedPagesAtPeriodStart);

    private static int ClampToInt(long pages) => (int)Math.Min(pages, int.MaxValue);
}
