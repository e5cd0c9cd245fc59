/*
 * What the idle-tax experiment measures (Figure 7): both VMs' allocation, target and active estimate, the
 * file server's true working set and throughput, as means over the end of each tau phase (the throughput
 * with its standard error) and over time; aggregated, the file server's throughput gain.
 */
namespace Memvisor.Experiments;

/// <summary>The idle-tax experiment's setup at its scale.</summary>
/// <param name="PeriodSeconds">Sampling period.</param>
/// <param name="VmMB">Configured memory of each VM.</param>
/// <param name="HostMB">Machine memory.</param>
/// <param name="OverheadMB">Each VM's overhead (null: the simulator's default).</param>
/// <param name="Clients">The file server's clients.</param>
/// <param name="ChangeSeconds">When tau is raised.</param>
/// <param name="EndSeconds">The end of the run.</param>
/// <param name="WindowSeconds">Length of the window at the end of each tau phase.</param>
public sealed record IdleTaxSetup(double PeriodSeconds, double VmMB, double HostMB, double? OverheadMB, int Clients, double ChangeSeconds, double EndSeconds, double WindowSeconds);

/// <summary>Means over the window at the end of one tau phase (VM1 idle, VM2 the file server).</summary>
/// <param name="IdleGrantedMB">VM1's allocation.</param>
/// <param name="BusyGrantedMB">VM2's allocation.</param>
/// <param name="IdleTargetMB">VM1's target.</param>
/// <param name="BusyTargetMB">VM2's target.</param>
/// <param name="IdleActiveMB">VM1's active estimate.</param>
/// <param name="BusyActiveMB">VM2's active estimate.</param>
/// <param name="BusyTrueWorkingSetMB">VM2's true working set.</param>
/// <param name="BusyThroughput">VM2's operations/s.</param>
/// <param name="BusyThroughputStandardError">Standard error of that mean (samples taken as independent).</param>
public sealed record IdleTaxPhase(
    double IdleGrantedMB,
    double BusyGrantedMB,
    double IdleTargetMB,
    double BusyTargetMB,
    double IdleActiveMB,
    double BusyActiveMB,
    double BusyTrueWorkingSetMB,
    double BusyThroughput,
    double BusyThroughputStandardError);

/// <summary>Both VMs over time, index by index with <paramref name="Seconds"/>.</summary>
/// <param name="Seconds">Sample times.</param>
/// <param name="IdleGrantedMB">VM1's allocation.</param>
/// <param name="IdleTargetMB">VM1's target.</param>
/// <param name="IdleActiveMB">VM1's active estimate.</param>
/// <param name="BusyGrantedMB">VM2's allocation.</param>
/// <param name="BusyTargetMB">VM2's target.</param>
/// <param name="BusyActiveMB">VM2's active estimate.</param>
/// <param name="BusyTrueWorkingSetMB">VM2's true working set.</param>
/// <param name="BusyThroughput">VM2's operations/s.</param>
public sealed record IdleTaxTimeline(
    IReadOnlyList<double> Seconds,
    IReadOnlyList<double> IdleGrantedMB,
    IReadOnlyList<double> IdleTargetMB,
    IReadOnlyList<double> IdleActiveMB,
    IReadOnlyList<double> BusyGrantedMB,
    IReadOnlyList<double> BusyTargetMB,
    IReadOnlyList<double> BusyActiveMB,
    IReadOnlyList<double> BusyTrueWorkingSetMB,
    IReadOnlyList<double> BusyThroughput);

/// <summary>Everything the idle-tax experiment measured.</summary>
/// <param name="Setup">The setup it ran.</param>
/// <param name="Before">The end of the tau = 0 phase.</param>
/// <param name="After">The end of the raised-tau phase.</param>
/// <param name="Timeline">Both VMs over time.</param>
public sealed record IdleTaxMeasurements(IdleTaxSetup Setup, IdleTaxPhase Before, IdleTaxPhase After, IdleTaxTimeline Timeline)
{
    /// <summary>VM2's throughput gain from raising tau, %.</summary>
    public double GainPercent => 100 * (After.BusyThroughput - Before.BusyThroughput) / Before.BusyThroughput;

    /// <summary>Standard error of the gain, % (of the tau = 0 throughput).</summary>
    public double GainStandardErrorPercent =>
        100 * Math.Sqrt((Before.BusyThroughputStandardError * Before.BusyThroughputStandardError) + (After.BusyThroughputStandardError * After.BusyThroughputStandardError)) / Before.BusyThroughput;

    /// <summary>How much an allocation must change to count as moved: 1% of machine memory (the hysteresis band), MB.</summary>
    public double MoveThresholdMB => 0.01 * Setup.HostMB;
}
