using Memvisor.Core.Memory;

namespace Memvisor.Core.Sampling;

/// <summary>A count of sampled pages: <paramref name="TouchedPages"/> of the <paramref name="SampledPages"/> sampled were touched.</summary>
/// <param name="TouchedPages">Sampled pages the guest touched (t).</param>
/// <param name="SampledPages">Pages sampled (n); 0 when the VM has nothing to sample.</param>
public readonly record struct SampleCount(int TouchedPages, int SampledPages);

/// <summary>
/// What a substrate measures for working-set sampling, per VM: how many of the current period's
/// sampled pages were touched so far, and the same at the end of a period, which also starts the next
/// one (an owning substrate draws and arms a new sample; a managing one clears its referenced bits).
/// The fraction t / n must be a fraction of the VM's configured memory.
/// </summary>
public interface IWorkingSetProbe
{
    /// <summary>The current period's count so far; changes nothing.</summary>
    SampleCount CountTouched(VmId vm);

    /// <summary>Ends the current period: returns its count and starts the next period's sample.</summary>
    SampleCount EndSamplingPeriod(VmId vm);
}

/// <summary>
/// One VM's sampling periods and estimate (paper §5.3), over any <see cref="IWorkingSetProbe"/>: the
/// period clock runs on the VM time it is given; when a period is due it ends it and feeds the count
/// to the <see cref="WorkingSetEstimator"/>, otherwise it feeds the count so far (partial). The same
/// code serves the owning sampler and the substrate-neutral policy. Allocates nothing after construction.
/// </summary>
public sealed class VmWorkingSet
{
    private readonly TimeSpan _period;

    /// <summary>Starts with the estimate at <see cref="SamplingOptions.InitialActiveFraction"/> and an empty period.</summary>
    /// <param name="vm">The VM.</param>
    /// <param name="configuredPages">The VM's configured pages (max): the estimate is a fraction of them.</param>
    /// <param name="options">Period length, gains and initial estimate.</param>
    public VmWorkingSet(VmId vm, int configuredPages, SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(configuredPages);
        Vm = vm;
        ConfiguredPages = configuredPages;
        Estimator = new WorkingSetEstimator(options);
        _period = TimeSpan.FromSeconds(options.PeriodSeconds);
    }

    /// <summary>The VM.</summary>
    public VmId Vm { get; }

    /// <summary>The VM's configured pages.</summary>
    public int ConfiguredPages { get; }

    /// <summary>The VM's moving averages.</summary>
    public WorkingSetEstimator Estimator { get; }

    /// <summary>VM execution time elapsed in the current period.</summary>
    public TimeSpan PeriodElapsed { get; private set; }

    /// <summary>The count as of the last <see cref="Advance"/> (0 of n right after a period ended).</summary>
    public SampleCount SoFar { get; private set; }

    /// <summary>The working-set estimate: the fraction of configured pages that is active, in [0, 1].</summary>
    public double Estimate => Estimator.Estimate;

    /// <summary>The VM's active pages: <see cref="Estimate"/> times its configured pages.</summary>
    public double ActivePages => Estimator.Estimate * ConfiguredPages;

    /// <summary>
    /// Starts the clock of a VM whose first sample the substrate has just started (0 of
    /// <paramref name="sampledPages"/> touched so far).
    /// </summary>
    public void Begin(int sampledPages)
    {
        PeriodElapsed = TimeSpan.Zero;
        SoFar = new SampleCount(0, sampledPages);
    }

    /// <summary>
    /// Accounts <paramref name="vmTimeElapsed"/> of the VM's execution time. When the period is due it
    /// ends (a call that spans several periods closes only the current one, whose count covers all of
    /// that time) and the estimator gets its count; otherwise the estimator gets the count so far.
    /// </summary>
    /// <returns>True when a period ended.</returns>
    public bool Advance(IWorkingSetProbe probe, TimeSpan vmTimeElapsed)
    {
        ArgumentNullException.ThrowIfNull(probe);
        if (vmTimeElapsed < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(vmTimeElapsed), vmTimeElapsed, "VM time does not run backwards.");
        }

        PeriodElapsed += vmTimeElapsed;
        if (PeriodElapsed < _period)
        {
            SoFar = probe.CountTouched(Vm);
            if (SoFar.SampledPages > 0)
            {
                Estimator.ObservePartial(SoFar.TouchedPages, SoFar.SampledPages);
            }

            return false;
        }

        var ended = probe.EndSamplingPeriod(Vm);
        if (ended.SampledPages > 0)
        {
            Estimator.CompletePeriod(ended.TouchedPages, ended.SampledPages);
        }

        PeriodElapsed = TimeSpan.Zero;
        SoFar = new SampleCount(0, ended.SampledPages);
        return true;
    }

    /// <summary>
    /// The paper's f for the idle memory tax: min(1, <see cref="ActivePages"/> / <paramref name="allocatedPages"/>);
    /// 1 when nothing is allocated (a VM reclaimed to half its size that uses all it has must read f = 1).
    /// </summary>
    public double ActiveFractionOf(double allocatedPages)
    {
        var active = ActivePages;
        return allocatedPages > 0 ? Math.Min(1.0, active / allocatedPages) : 1.0;
    }

    /// <summary>The sampling state for statistics and reports.</summary>
    public WorkingSetSnapshot Snapshot()
    {
        var e = Estimator;
        return new WorkingSetSnapshot(e.Slow, e.Fast, e.FastWithPartial, e.Estimate, e.PeriodsCompleted, SoFar.SampledPages, SoFar.TouchedPages, PeriodElapsed);
    }
}
