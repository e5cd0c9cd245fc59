namespace Memvisor.Core.Sampling;

/// <summary>
/// Settings of working-set sampling (paper §5.3). The paper gives the period and the sample size
/// (100 pages per 30 s of VM time) but not the gains of its moving averages; the defaults chosen here
/// are argued on each property.
/// </summary>
public sealed record SamplingOptions
{
    /// <summary>The longest sampling period accepted: one day of VM time.</summary>
    public const double MaxPeriodSeconds = 86_400;

    /// <summary>Length of one sampling period in VM execution time, in seconds (paper: 30 s).</summary>
    public double PeriodSeconds { get; init; } = 30;

    /// <summary>
    /// Pages sampled per VM per period, n (paper: 100). A VM with fewer pages has all of them sampled.
    /// The error of one period's fraction is binomial: sd = sqrt(f (1 - f) / n), at most 0.05 for n = 100.
    /// </summary>
    public int SamplePages { get; init; } = 100;

    /// <summary>
    /// Weight of the newest period in the slow moving average (0.1). It sets how slowly the estimate
    /// falls when a VM goes idle: after k idle periods a fraction 0.9^k of the old activity remains,
    /// a half-life of about 6.6 periods (3.3 minutes at 30 s), so a VM that pauses for a minute or
    /// two keeps most of its memory. It also averages about 19 periods, which cuts the sampling error
    /// of the slow average to sqrt(0.1 / 1.9) = 0.23 of a single period's.
    /// </summary>
    public double SlowGain { get; init; } = 0.1;

    /// <summary>
    /// Weight of the newest period in the fast moving average (0.5). It sets how quickly the estimate
    /// rises when a VM becomes active: the gap to the new level halves every period (30 s), and the
    /// partial-count variant starts closing it within the period in which activity begins. Higher
    /// gains react faster but pass more sampling noise: the fast average's sd is
    /// sqrt(g / (2 - g)) of a single period's, 0.58 for 0.5 (0.73 for 0.7), and the estimate is its maximum.
    /// </summary>
    public double FastGain { get; init; } = 0.5;

    /// <summary>
    /// The active fraction assumed before a VM's first period completes (1.0: fully active). A VM that
    /// was just powered on has not been measured yet and must not be taxed as idle on no evidence; its
    /// estimate then falls at the slow gain like that of any VM that goes idle, as the boot spike of
    /// the paper's Figure 6 does.
    /// </summary>
    public double InitialActiveFraction { get; init; } = 1.0;

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, its value and the rule it breaks.</summary>
    public void Validate()
    {
        if (!(PeriodSeconds > 0 && PeriodSeconds <= MaxPeriodSeconds))
        {
            throw new ArgumentException(
                $"Sampling PeriodSeconds: {PeriodSeconds} s; must be positive and at most {MaxPeriodSeconds} s (one day).",
                nameof(PeriodSeconds));
        }

        if (SamplePages < 1)
        {
            throw new ArgumentException($"Sampling SamplePages: {SamplePages} pages; must be at least 1.", nameof(SamplePages));
        }

        if (!(FastGain > 0 && FastGain <= 1))
        {
            throw new ArgumentException($"Sampling FastGain: {FastGain}; must be in (0, 1].", nameof(FastGain));
        }

        if (!(SlowGain > 0 && SlowGain <= FastGain))
        {
            throw new ArgumentException(
                $"Sampling SlowGain: {SlowGain}; must be in (0, FastGain = {FastGain}]: the slow average may not react faster than the fast one.",
                nameof(SlowGain));
        }

        if (!(InitialActiveFraction >= 0 && InitialActiveFraction <= 1))
        {
            throw new ArgumentException(
                $"Sampling InitialActiveFraction: {InitialActiveFraction}; must be in [0, 1].", nameof(InitialActiveFraction));
        }
    }
}
