/*
 * What the sampling experiment measures (Figure 6): the Windows VM's estimate, true working set and the
 * toucher's configured working set over time; how fast the estimate followed each step of the working set;
 * the first periods after boot of Windows and Linux (from the 100% start, and again from 0%); and how
 * closely the estimate tracked the truth between changes.
 */
namespace Memvisor.Experiments;

/// <summary>The Windows VM over time, index by index with <paramref name="Seconds"/>.</summary>
/// <param name="Seconds">Sample times.</param>
/// <param name="EstimateMB">The active-memory estimate.</param>
/// <param name="TrueWorkingSetMB">Pages touched in the last sampling period.</param>
/// <param name="ConfiguredWorkingSetMB">The toucher's configured working set.</param>
public sealed record SamplingTimeline(IReadOnlyList<double> Seconds, IReadOnlyList<double> EstimateMB, IReadOnlyList<double> TrueWorkingSetMB, IReadOnlyList<double> ConfiguredWorkingSetMB);

/// <summary>The estimate's response to one step of the working set (settled truth levels).</summary>
/// <param name="AtSeconds">When the step happened.</param>
/// <param name="FromMB">Settled truth before.</param>
/// <param name="ToMB">Settled truth after.</param>
/// <param name="Up">Whether the working set grew.</param>
/// <param name="Periods50">Sampling periods until the estimate covered half the way (NaN: never in the phase).</param>
/// <param name="Periods90">Sampling periods until it covered 90% of the way.</param>
public sealed record SamplingStep(double AtSeconds, double FromMB, double ToMB, bool Up, double Periods50, double Periods90);

/// <summary>One boot's first periods.</summary>
/// <param name="FirstPeriodTruthMB">True working set in period 1.</param>
/// <param name="SecondPeriodEstimateMB">The estimate during period 2 (one period measured).</param>
/// <param name="SettledLevelMB">The settled truth the estimate falls to (NaN for the runs from 0%).</param>
/// <param name="PeriodsTo90Down">Periods until the estimate came 90% down from 100% (NaN for the runs from 0%).</param>
/// <param name="PeakEstimateMB">Highest estimate of the run.</param>
public sealed record SamplingBoot(double FirstPeriodTruthMB, double SecondPeriodEstimateMB, double SettledLevelMB, double PeriodsTo90Down, double PeakEstimateMB);

/// <summary>The four boots: Windows (zero-page thread) and Linux, estimates starting at 100% and at 0%; the series the boot chart shows.</summary>
/// <param name="Windows">The Windows VM of the main run.</param>
/// <param name="Linux">The same toucher in Linux.</param>
/// <param name="WindowsFromZero">Windows with estimates starting at 0%.</param>
/// <param name="LinuxFromZero">Linux with estimates starting at 0%.</param>
/// <param name="LinuxEstimate">Linux' estimate over time.</param>
/// <param name="LinuxTruth">Linux' true working set over time.</param>
/// <param name="WindowsFromZeroEstimate">Windows' estimate from 0% over time.</param>
/// <param name="LinuxFromZeroEstimate">Linux' estimate from 0% over time.</param>
public sealed record SamplingBootRuns(
    SamplingBoot Windows,
    SamplingBoot Linux,
    SamplingBoot WindowsFromZero,
    SamplingBoot LinuxFromZero,
    TimeSeries LinuxEstimate,
    TimeSeries LinuxTruth,
    TimeSeries WindowsFromZeroEstimate,
    TimeSeries LinuxFromZeroEstimate);

/// <summary>How closely the estimate tracked the truth over the last quarter of each phase.</summary>
/// <param name="MeanErrorMB">Mean |estimate - truth|.</param>
/// <param name="Samples">Samples it is taken over.</param>
public sealed record SamplingTracking(double MeanErrorMB, int Samples);

/// <summary>Everything the sampling experiment measured.</summary>
/// <param name="PeriodSeconds">Sampling period.</param>
/// <param name="MemoryMB">The VM's configured memory.</param>
/// <param name="Windows">The Windows VM over time.</param>
/// <param name="Steps">The response to each step of the working set, in time order.</param>
/// <param name="Boot">The first periods after boot.</param>
/// <param name="Tracking">Tracking between changes.</param>
public sealed record SamplingMeasurements(double PeriodSeconds, double MemoryMB, SamplingTimeline Windows, IReadOnlyList<SamplingStep> Steps, SamplingBootRuns Boot, SamplingTracking Tracking)
{
    /// <summary>The rise's dependence on the estimator's fast gain and sample count (one short run per value).</summary>
    public required SamplingSensitivity Sensitivity { get; init; }

    /// <summary>The steps up.</summary>
    public IReadOnlyList<SamplingStep> Rises => [.. Steps.Where(s => s.Up)];

    /// <summary>The steps down.</summary>
    public IReadOnlyList<SamplingStep> Falls => [.. Steps.Where(s => !s.Up)];

    /// <summary>Periods to 90% of the slowest step up.</summary>
    public double SlowestRise => Rises.Max(s => s.Periods90);

    /// <summary>Periods to 90% of the fastest step down.</summary>
    public double FastestFall => Falls.Min(s => s.Periods90);

    /// <summary>Periods to half-way of the fastest step down.</summary>
    public double FastestHalfFall => Falls.Min(s => s.Periods50);

    /// <summary>Tracking error, % of the VM's memory.</summary>
    public double TrackingErrorPercent => 100 * Tracking.MeanErrorMB / MemoryMB;
}
