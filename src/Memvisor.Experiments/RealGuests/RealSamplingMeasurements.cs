/*
 * What the sampling experiment measures on a real guest (Figure 6): per period, the agent's true working
 * set (pages it touched per second, averaged over the period), the pages smaps counted Referenced over
 * the period, and Core's estimate fed by them; per step of the toucher's phases, how many periods the
 * estimate took to cover half and 90% of the step; and how far the estimate is from the truth between
 * steps.
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The setup of the real sampling experiment.</summary>
/// <param name="MemoryMiB">The guest's memory.</param>
/// <param name="PeriodSeconds">The sampling period.</param>
/// <param name="Phases">The toucher's phases: working set MiB and seconds.</param>
public sealed record RealSamplingSetup(int MemoryMiB, double PeriodSeconds, IReadOnlyList<(int SetMiB, int Seconds)> Phases);

/// <summary>One sampling period.</summary>
/// <param name="Seconds">Seconds since the first period began.</param>
/// <param name="Phase">The toucher's phase at the period's end.</param>
/// <param name="TruthMiB">The agent's touched pages per second, mean over the period's reports.</param>
/// <param name="ReferencedMiB">Guest RAM smaps counted Referenced over the period.</param>
/// <param name="EstimateMiB">Core's estimate after the period (its fraction times the guest's memory).</param>
/// <param name="CostMilliseconds">Wall time of the period's smaps read and clear_refs.</param>
public sealed record RealSamplingPeriod(double Seconds, int Phase, double TruthMiB, double ReferencedMiB, double EstimateMiB, double CostMilliseconds);

/// <summary>How the estimate followed one step of the working set.</summary>
/// <param name="AtSeconds">When the step showed in the truth.</param>
/// <param name="FromMiB">The truth before.</param>
/// <param name="ToMiB">The truth after.</param>
/// <param name="Periods50">Periods until the estimate covered half the step (NaN: not within the phase).</param>
/// <param name="Periods90">Periods until it covered 90% (NaN: not within the phase).</param>
public sealed record RealSamplingStep(double AtSeconds, double FromMiB, double ToMiB, double Periods50, double Periods90);

/// <summary>Everything the real sampling experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Periods">Every period.</param>
/// <param name="Rises">Steps up.</param>
/// <param name="Falls">Steps down.</param>
/// <param name="MeanErrorMiB">Mean |estimate - truth| over the last quarter of each phase.</param>
/// <param name="Simulator">The simulator's sampling experiment at the same scale.</param>
public sealed record RealSamplingMeasurements(RealSamplingSetup Setup, IReadOnlyList<RealSamplingPeriod> Periods, IReadOnlyList<RealSamplingStep> Rises, IReadOnlyList<RealSamplingStep> Falls, double MeanErrorMiB, ExperimentResult Simulator)
{
    /// <summary>The mean error as a % of the guest's memory.</summary>
    public double MeanErrorPercent => 100 * MeanErrorMiB / Setup.MemoryMiB;

    /// <summary>Periods to 90% of the slowest step up (NaN when one never got there).</summary>
    public double SlowestRise => Rises.Count == 0 ? double.NaN : Rises.Max(s => double.IsNaN(s.Periods90) ? double.PositiveInfinity : s.Periods90);

    /// <summary>Periods to 90% of the fastest step down (+inf when none got there within its phase).</summary>
    public double FastestFall => Falls.Count == 0 ? double.NaN : Falls.Min(s => double.IsNaN(s.Periods90) ? double.PositiveInfinity : s.Periods90);
}
