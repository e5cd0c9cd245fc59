namespace Memvisor.Core.Sampling;

/// <summary>
/// The smoothing of working-set samples (paper §5.3), without any sampling machinery: it is fed the
/// count of each completed period (t touched of n sampled) and, during a period, the count so far.
/// <list type="bullet">
/// <item><see cref="Slow"/> and <see cref="Fast"/>: exponentially weighted moving averages of the
/// per-period fractions f = t / n, updated as <c>avg += gain * (f - avg)</c> with
/// <see cref="SamplingOptions.SlowGain"/> and <see cref="SamplingOptions.FastGain"/>.</item>
/// <item><see cref="FastWithPartial"/>: the fast average as it would be if the current period ended now
/// with the pages touched so far, <c>Fast + FastGain * (p - Fast)</c> with p = t_so_far / n, but only
/// when p &gt; Fast; otherwise it equals <see cref="Fast"/>. The count so far can only grow until the
/// period ends, so a low partial count is no evidence yet and must not lower anything, while a high
/// one is a lower bound on this period's fraction: the estimate can rise within the period in which
/// a VM becomes active instead of a period later.</item>
/// <item><see cref="Estimate"/>: the maximum of the three, so it rises at the fast gain (sooner, with
/// the partial count) and falls at the slow gain.</item>
/// </list>
/// Before the first period completes, both averages hold <see cref="SamplingOptions.InitialActiveFraction"/>.
/// </summary>
public sealed class WorkingSetEstimator
{
    private readonly double _slowGain;
    private readonly double _fastGain;

    /// <summary>Creates an estimator with the gains and initial value of <paramref name="options"/>.</summary>
    public WorkingSetEstimator(SamplingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _slowGain = options.SlowGain;
        _fastGain = options.FastGain;
        Slow = options.InitialActiveFraction;
        Fast = options.InitialActiveFraction;
        FastWithPartial = options.InitialActiveFraction;
    }

    /// <summary>The slow moving average of the active fraction, in [0, 1].</summary>
    public double Slow { get; private set; }

    /// <summary>The fast moving average of the active fraction, in [0, 1].</summary>
    public double Fast { get; private set; }

    /// <summary>The fast average including the current period's partial count (never below <see cref="Fast"/>), in [0, 1].</summary>
    public double FastWithPartial { get; private set; }

    /// <summary>The working-set estimate: the maximum of <see cref="Slow"/>, <see cref="Fast"/> and <see cref="FastWithPartial"/>, in [0, 1].</summary>
    public double Estimate => Math.Max(Slow, Math.Max(Fast, FastWithPartial));

    /// <summary>Periods completed so far.</summary>
    public int PeriodsCompleted { get; private set; }

    /// <summary>Feeds a completed period: <paramref name="touchedPages"/> of <paramref name="sampledPages"/> were touched. The partial count restarts at zero.</summary>
    public void CompletePeriod(int touchedPages, int sampledPages)
    {
        var f = Fraction(touchedPages, sampledPages);
        Slow += _slowGain * (f - Slow);
        Fast += _fastGain * (f - Fast);
        FastWithPartial = Fast;
        PeriodsCompleted++;
    }

    /// <summary>Feeds the current period's count so far: <paramref name="touchedPages"/> of <paramref name="sampledPages"/> touched since it began.</summary>
    public void ObservePartial(int touchedPages, int sampledPages)
    {
        var p = Fraction(touchedPages, sampledPages);
        FastWithPartial = p > Fast ? Fast + (_fastGain * (p - Fast)) : Fast;
    }

    private static double Fraction(int touchedPages, int sampledPages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampledPages, 1);
        if (touchedPages < 0 || touchedPages > sampledPages)
        {
            throw new ArgumentOutOfRangeException(nameof(touchedPages), touchedPages, $"Touched pages must be between 0 and the {sampledPages} pages sampled.");
        }

        return (double)touchedPages / sampledPages;
    }
}
