/*
 * Host-wide parameters of the allocation policy (paper §5.2, §6.2-§6.3): the idle memory tax rate,
 * how often targets are recomputed, and the four free-memory thresholds with their hysteresis.
 *
 * Thresholds are percentages of machine memory; a threshold in pages is rounded up, so "free memory
 * below the threshold" means freePages < ceil(totalPages * percent / 100), i.e. below the exact
 * fraction. The hysteresis margin is not given by the paper ("only after significantly exceeding the
 * higher threshold"). Memvisor's default is 1% of machine memory: a state is left upwards only at
 * 7% (to high), 5% (to soft) or 3% (to hard) free, so a VM's working set has to shrink or a VM power
 * off by at least 1% of the machine before reclamation eases, which is well above the page-sized
 * noise of a balance tick, and small enough that the free target (high + margin = 7%) keeps only
 * one extra percent of the machine idle. In pages, a state is re-entered at ThresholdPages + HysteresisPages
 * (ReentryPages), and the free target is the re-entry level of high: one definition for both.
 */
namespace Memvisor.Core.Allocation;

/// <summary>Parameters of the allocation policy, with the paper's defaults.</summary>
public sealed record AllocationOptions
{
    /// <summary>Idle memory tax rate tau in [0, 1); 0 is pure proportional share (paper default 0.75).</summary>
    public double Tau { get; init; } = IdleMemoryTax.DefaultTau;

    /// <summary>Seconds between periodic recomputations of the targets (ESX's Mem.BalancePeriod, 15 s).</summary>
    public double BalancePeriodSeconds { get; init; } = 15;

    /// <summary>Free memory, in % of machine memory, at or above which no reclamation is needed (6%).</summary>
    public double HighPercent { get; init; } = 6;

    /// <summary>Below this % of free memory the host balloons (4%).</summary>
    public double SoftPercent { get; init; } = 4;

    /// <summary>Below this % of free memory the host pages forcibly (2%).</summary>
    public double HardPercent { get; init; } = 2;

    /// <summary>Below this % of free memory VMs above their target are also blocked (1%).</summary>
    public double LowPercent { get; init; } = 1;

    /// <summary>
    /// Hysteresis margin, in % of machine memory: a higher state is re-entered only when free memory reaches
    /// that state's threshold plus this margin (not given by the paper; Memvisor's default 1%).
    /// </summary>
    public double HysteresisPercent { get; init; } = 1;

    /// <summary>The idle memory tax at <see cref="Tau"/> (a method, so that printing invalid options does not throw).</summary>
    public IdleMemoryTax CreateIdleMemoryTax() => new(Tau);

    /// <summary>Throws <see cref="ArgumentException"/> naming the field, its value and the rule it breaks.</summary>
    public void Validate()
    {
        IdleMemoryTax.Validate(Tau, nameof(Tau));
        if (!(double.IsFinite(BalancePeriodSeconds) && BalancePeriodSeconds > 0))
        {
            throw new ArgumentException($"Allocation option {nameof(BalancePeriodSeconds)}: {BalancePeriodSeconds}; must be a positive number of seconds.");
        }

        ValidatePercent(nameof(HighPercent), HighPercent);
        ValidatePercent(nameof(SoftPercent), SoftPercent);
        ValidatePercent(nameof(HardPercent), HardPercent);
        ValidatePercent(nameof(LowPercent), LowPercent);
        ValidateBelow(nameof(SoftPercent), SoftPercent, nameof(HighPercent), HighPercent);
        ValidateBelow(nameof(HardPercent), HardPercent, nameof(SoftPercent), SoftPercent);
        ValidateBelow(nameof(LowPercent), LowPercent, nameof(HardPercent), HardPercent);
        if (!(HysteresisPercent >= 0 && HighPercent + HysteresisPercent < 100))
        {
            throw new ArgumentException(
                $"Allocation option {nameof(HysteresisPercent)}: {HysteresisPercent}; must be at least 0, and {nameof(HighPercent)} + {nameof(HysteresisPercent)} ({HighPercent} + {HysteresisPercent}) must stay below 100.");
        }
    }

    /// <summary>The threshold of <paramref name="state"/> in pages of a machine of <paramref name="totalPages"/> pages (rounded up).</summary>
    public long ThresholdPages(FreeMemoryState state, long totalPages) => PercentOf(ThresholdPercent(state), totalPages);

    /// <summary>The hysteresis margin in pages (rounded up).</summary>
    public long HysteresisPages(long totalPages) => PercentOf(HysteresisPercent, totalPages);

    /// <summary>
    /// The least free memory at which a host below <paramref name="state"/> climbs back to it: the state's
    /// threshold plus the hysteresis margin, each in whole pages. The one definition the state machine and
    /// the free target both use (rounding 7% up can give one page less than rounding 6% and 1% up apart,
    /// and a host whose targets aimed one page short of leaving soft stayed in soft).
    /// </summary>
    public long ReentryPages(FreeMemoryState state, long totalPages) => ThresholdPages(state, totalPages) + HysteresisPages(totalPages);

    /// <summary>
    /// The free memory that targets aim for: <see cref="ReentryPages"/> of <see cref="FreeMemoryState.High"/>,
    /// the least free memory that takes the host back to <see cref="FreeMemoryState.High"/> from any state.
    /// </summary>
    public long FreeTargetPages(long totalPages) => ReentryPages(FreeMemoryState.High, totalPages);

    /// <summary>
    /// Pages that targets may hand out to VMs: machine pages minus the VMs' overhead and minus
    /// <see cref="FreeTargetPages"/>. Zero when overhead and the free target already take everything.
    /// </summary>
    public long PagesAvailableToVms(long machinePages, long overheadPages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(machinePages);
        ArgumentOutOfRangeException.ThrowIfNegative(overheadPages);
        return Math.Max(0, machinePages - overheadPages - FreeTargetPages(machinePages));
    }

    /// <summary>The threshold of <paramref name="state"/> in % of machine memory.</summary>
    public double ThresholdPercent(FreeMemoryState state) => state switch
    {
        FreeMemoryState.High => HighPercent,
        FreeMemoryState.Soft => SoftPercent,
        FreeMemoryState.Hard => HardPercent,
        FreeMemoryState.Low => LowPercent,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Not a free-memory state."),
    };

    private static long PercentOf(double percent, long totalPages) => (long)Math.Ceiling(totalPages * percent / 100);

    private static void ValidatePercent(string field, double value)
    {
        if (!(value > 0 && value < 100))
        {
            throw new ArgumentException($"Allocation option {field}: {value}; must be a percentage of machine memory above 0 and below 100.");
        }
    }

    private static void ValidateBelow(string field, double value, string higherField, double higherValue)
    {
        if (!(value < higherValue))
        {
            throw new ArgumentException($"Allocation option {field}: {value}; must be below {higherField} ({higherValue}): thresholds decrease from high to soft to hard to low.");
        }
    }
}
