/*
 * What the policy experiment measures (Figure 8): the host's reclamation (swap against the paper's bound,
 * ballooning's share, peaks), the time in each free-memory state from the policy's log, and per VM its
 * shares, target, held memory, entitlement by shares alone and activity over the last third of the run;
 * aggregated, how allocation ranks against activity. The run's samples are kept for the time-series charts.
 */
using Memvisor.Scenarios;

namespace Memvisor.Experiments;

/// <summary>How the host reclaimed memory over the measured window (the VMs booted before it).</summary>
/// <param name="SwapBoundMB">The paper's 20 MB bound on host swap, scaled to the host.</param>
/// <param name="PeakSwapMB">Peak host swap.</param>
/// <param name="UnderBoundFraction">Share of the samples with host swap under the bound (0..1).</param>
/// <param name="MedianSwapMB">Median host swap.</param>
/// <param name="BalloonShare">Mean of balloon / (balloon + swap) over the samples that reclaim anything (0..1).</param>
/// <param name="PeakBalloonMB">Peak of all balloons.</param>
/// <param name="PeakSharedSavedMB">Peak memory saved by sharing.</param>
public sealed record PolicyReclamation(double SwapBoundMB, double PeakSwapMB, double UnderBoundFraction, double MedianSwapMB, double BalloonShare, double PeakBalloonMB, double PeakSharedSavedMB)
{
    /// <summary>Peak host swap during the boot and warm-up, before the measured window.</summary>
    public double BootPeakSwapMB { get; init; }
}

/// <summary>One VM over the last third of the run (means; peaks over the run).</summary>
/// <param name="Name">The VM.</param>
/// <param name="ConfiguredMB">Configured memory.</param>
/// <param name="Role">"server" or "client".</param>
/// <param name="Shares">Memory shares.</param>
/// <param name="TargetMB">The policy's target.</param>
/// <param name="HeldMB">Machine memory held: granted minus its part of the sharing savings.</param>
/// <param name="ActiveMB">Active estimate.</param>
/// <param name="TrueWorkingSetMB">True working set.</param>
/// <param name="PeakBalloonMB">Peak balloon.</param>
/// <param name="PeakSwappedMB">Peak host-swapped memory.</param>
/// <param name="SharedSavedMB">Saved by sharing.</param>
/// <param name="Throughput">Work units/s.</param>
public sealed record PolicyVm(
    string Name, double ConfiguredMB, string Role, double Shares, double TargetMB, double HeldMB, double ActiveMB, double TrueWorkingSetMB,
    double PeakBalloonMB, double PeakSwappedMB, double SharedSavedMB, double Throughput)
{
    /// <summary>Its part of all held memory by shares alone (tau = 0).</summary>
    public double EntitlementMB { get; init; }
}

/// <summary>Everything the policy experiment measured.</summary>
/// <param name="Scenario">The scenario it ran.</param>
/// <param name="StaggerSeconds">Time between the VMs' power-ons.</param>
/// <param name="WindowFromSeconds">Start of the measured window: the VMs boot and warm up before it; it ends with the run.</param>
/// <param name="Reclamation">How the host reclaimed memory over the window.</param>
/// <param name="SecondsInState">Seconds in each free-memory state over the window, from the policy's log.</param>
/// <param name="StateTransitions">Transitions in that log within the window.</param>
/// <param name="Vms">The VMs, in the scenario's order (means over the last third of the window).</param>
/// <param name="Samples">The run's samples, boot included (for the time-series charts and table).</param>
public sealed record PolicyMeasurements(
    Scenario Scenario,
    double StaggerSeconds,
    double WindowFromSeconds,
    PolicyReclamation Reclamation,
    IReadOnlyDictionary<string, double> SecondsInState,
    int StateTransitions,
    IReadOnlyList<PolicyVm> Vms,
    IReadOnlyList<HostSample> Samples)
{
    /// <summary>Seconds in each free-memory state during the boot and warm-up, before the window.</summary>
    public IReadOnlyDictionary<string, double> BootSecondsInState { get; init; } = new Dictionary<string, double>();

    /// <summary>Length of the measured window.</summary>
    public double WindowSeconds => Scenario.DurationSeconds - WindowFromSeconds;

    /// <summary>Machine memory over the paper's 1024 MB.</summary>
    public double MemoryScale => Scenario.Host.MemoryMB / 1024;

    /// <summary>The VMs' configured memory.</summary>
    public double ConfiguredMB => Scenario.Vms.Sum(v => v.MemoryMB);

    /// <summary>The VMs' overhead.</summary>
    public double OverheadMB => Scenario.Vms.Sum(v => v.OverheadMB ?? 0);

    /// <summary>Overcommitment: configured memory plus overhead over machine memory, % above it.</summary>
    public double OvercommitPercent => ((ConfiguredMB + OverheadMB) / Scenario.Host.MemoryMB - 1) * 100;

    /// <summary>The VMs from least to most active (active estimate over configured memory).</summary>
    public IReadOnlyList<PolicyVm> ByActivity => [.. Vms.OrderBy(r => r.ActiveMB / r.ConfiguredMB)];

    /// <summary>The two least active VMs.</summary>
    public IReadOnlyList<PolicyVm> LeastActive => [.. ByActivity.Take(2)];

    /// <summary>The most active VM.</summary>
    public PolicyVm MostActive => ByActivity[^1];

    /// <summary>Spearman's rank correlation of held memory with the active estimate.</summary>
    public double RankCorrelation => PolicyExperiment.Spearman([.. Vms.Select(r => r.ActiveMB)], [.. Vms.Select(r => r.HeldMB)]);

    /// <summary>Memory held away from VMs below their entitlement.</summary>
    public double MovedMB => Vms.Sum(r => Math.Max(0, r.EntitlementMB - r.HeldMB));

    /// <summary>Whether allocation tracks activity: rank correlation at least 0.7, the two least active below their entitlement, the most active above.</summary>
    public bool AllocationTracksActivity =>
        RankCorrelation >= 0.7 && LeastActive.All(r => r.HeldMB < r.EntitlementMB) && MostActive.HeldMB > MostActive.EntitlementMB;
}
