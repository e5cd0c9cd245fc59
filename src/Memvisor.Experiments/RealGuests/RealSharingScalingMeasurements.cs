/*
 * What the sharing-scaling experiment measures on real guests (Figure 4): per number of identical guests,
 * the steady state (means over the last quarter of the run) of the guest memory KSM merged, what it
 * reclaimed, and the zero pages apart.
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The setup of the real sharing-scaling experiment.</summary>
/// <param name="Counts">The numbers of identical guests run.</param>
/// <param name="MemoryMiB">Each guest's memory.</param>
/// <param name="DataMiB">The identical data each guest's agent fills (same seed in all).</param>
/// <param name="DurationSeconds">Each run's policy time.</param>
/// <param name="ScanPagesPerSecond">The share scan rate the policy sets for the host (KSM's pages_to_scan per 20 ms x 50).</param>
public sealed record RealSharingScalingSetup(IReadOnlyList<int> Counts, int MemoryMiB, int DataMiB, double DurationSeconds, double ScanPagesPerSecond);

/// <summary>One run's steady state.</summary>
/// <param name="Vms">Identical guests.</param>
/// <param name="ConfiguredMiB">Their configured memory together.</param>
/// <param name="ResidentMiB">Their guest-RAM consumption as the policy counts it (after sharing).</param>
/// <param name="SharedMiB">Guest memory mapped to merged pages (KSM pages and the zero page).</param>
/// <param name="ReclaimedMiB">Memory sharing saved (merged pages beyond one copy each, and every zero page).</param>
/// <param name="ZeroMiB">Zero pages merged with the kernel's zero page (use_zero_pages=1), all reclaimed.</param>
public sealed record RealSharingPoint(int Vms, double ConfiguredMiB, double ResidentMiB, double SharedMiB, double ReclaimedMiB, double ZeroMiB)
{
    /// <summary>Reclaimed, % of configured memory.</summary>
    public double ReclaimedPercent => 100 * ReclaimedMiB / ConfiguredMiB;

    /// <summary>Shared, % of configured memory.</summary>
    public double SharedPercent => 100 * SharedMiB / ConfiguredMiB;
}

/// <summary>Everything the real sharing-scaling experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Points">Per count.</param>
/// <param name="Simulator">The simulator's sharing-scaling experiment at the same scale.</param>
public sealed record RealSharingScalingMeasurements(RealSharingScalingSetup Setup, IReadOnlyList<RealSharingPoint> Points, ExperimentResult Simulator)
{
    /// <summary>One guest alone.</summary>
    public RealSharingPoint One => Points[0];

    /// <summary>The largest count.</summary>
    public RealSharingPoint Last => Points[^1];

    /// <summary>Reclaimed memory never falls by more than 2% from one count to the next.</summary>
    public bool Growing => Points.Zip(Points.Skip(1)).All(p => p.Second.ReclaimedMiB >= p.First.ReclaimedMiB * 0.98);
}
