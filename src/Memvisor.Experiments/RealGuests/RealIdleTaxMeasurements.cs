/*
 * What the idle-tax experiment measures on real guests (Figure 7): per policy tick, the idle tax in
 * force and, per guest, the policy's target, its consumption (guest-RAM RSS as the policy counts it), the
 * balloon, the estimated active fraction and the active guest's throughput; over a window before and one
 * after the tax is raised, their means.
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The setup of the real idle-tax experiment.</summary>
/// <param name="MemoryMiB">Each guest's memory.</param>
/// <param name="BudgetMiB">The host memory Memvisor may give both (QEMU's own included).</param>
/// <param name="IdleDataMiB">What the idle guest fills and never touches again.</param>
/// <param name="BusySetMiB">The active guest's working set (random pages, as fast as it can).</param>
/// <param name="RaisedTau">The tax after the change.</param>
/// <param name="ChangeSeconds">When the tax changes (policy time).</param>
/// <param name="DurationSeconds">The run's length (policy time).</param>
/// <param name="PeriodSeconds">Sampling and balance period.</param>
public sealed record RealIdleTaxSetup(int MemoryMiB, int BudgetMiB, int IdleDataMiB, int BusySetMiB, double RaisedTau, double ChangeSeconds, double DurationSeconds, double PeriodSeconds)
{
    /// <summary>The windows' start: the last 40% of each half.</summary>
    public (double From, double To) BeforeWindow => (ChangeSeconds * 0.6, ChangeSeconds);

    /// <summary>The last 40% after the change.</summary>
    public (double From, double To) AfterWindow => (ChangeSeconds + ((DurationSeconds - ChangeSeconds) * 0.6), DurationSeconds);
}

/// <summary>One guest at one tick.</summary>
/// <param name="TargetMiB">The policy's target.</param>
/// <param name="ConsumedMiB">Its consumption as the policy counts it.</param>
/// <param name="BalloonMiB">The balloon now.</param>
/// <param name="ActiveFraction">The estimated active fraction.</param>
/// <param name="Rate">The agent's touches per second since the previous tick (NaN without a new report).</param>
public sealed record RealIdleTaxVm(double TargetMiB, double ConsumedMiB, double BalloonMiB, double ActiveFraction, double Rate);

/// <summary>One policy tick.</summary>
/// <param name="Seconds">Policy time.</param>
/// <param name="Tau">The idle tax in force.</param>
/// <param name="State">The free-memory state.</param>
/// <param name="Idle">VM1, idle.</param>
/// <param name="Busy">VM2, active.</param>
public sealed record RealIdleTaxTick(double Seconds, double Tau, string State, RealIdleTaxVm Idle, RealIdleTaxVm Busy);

/// <summary>Means over a window.</summary>
/// <param name="IdleConsumedMiB">VM1's consumption.</param>
/// <param name="BusyConsumedMiB">VM2's consumption.</param>
/// <param name="IdleTargetMiB">VM1's target.</param>
/// <param name="BusyTargetMiB">VM2's target.</param>
/// <param name="IdleActiveFraction">VM1's f.</param>
/// <param name="BusyActiveFraction">VM2's f.</param>
/// <param name="BusyRate">VM2's touches per second.</param>
/// <param name="BusyRateStandardError">Its standard error over the window's ticks.</param>
public sealed record RealIdleTaxWindow(double IdleConsumedMiB, double BusyConsumedMiB, double IdleTargetMiB, double BusyTargetMiB, double IdleActiveFraction, double BusyActiveFraction, double BusyRate, double BusyRateStandardError);

/// <summary>Everything the real idle-tax experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Ticks">Every tick.</param>
/// <param name="Before">The window before the change.</param>
/// <param name="After">The window after.</param>
/// <param name="Faults">What went wrong with guests during the run (the run goes on).</param>
/// <param name="Simulator">The simulator's idle-tax experiment at the same scale.</param>
public sealed record RealIdleTaxMeasurements(RealIdleTaxSetup Setup, IReadOnlyList<RealIdleTaxTick> Ticks, RealIdleTaxWindow Before, RealIdleTaxWindow After, IReadOnlyList<string> Faults, ExperimentResult Simulator)
{
    /// <summary>VM2's throughput gain, %.</summary>
    public double GainPercent => 100 * (After.BusyRate - Before.BusyRate) / Before.BusyRate;

    /// <summary>The standard error of the gain, % (of the before rate).</summary>
    public double GainStandardErrorPercent => 100 * Math.Sqrt((Before.BusyRateStandardError * Before.BusyRateStandardError) + (After.BusyRateStandardError * After.BusyRateStandardError)) / Before.BusyRate;

    /// <summary>An allocation change counts when larger than this: 1% of the budget (the policy's hysteresis band).</summary>
    public double MoveThresholdMiB => Setup.BudgetMiB * 0.01;
}
