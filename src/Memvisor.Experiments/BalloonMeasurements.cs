/*
 * What the balloon experiment measures (Figure 2): per memory size, the configured and the ballooned VM's
 * mean throughput, balloon, granted memory and kernel reserve over the late window; aggregated, the
 * ballooned VM's throughput loss (smallest, largest, largest in size), the configured VM's growth with
 * memory and whether every balloon reached its target. The claims and the report read only this.
 */
namespace Memvisor.Experiments;

/// <summary>The balloon experiment's setup at its scale.</summary>
/// <param name="SizesMB">Memory sizes, ascending; the last is the ballooned VM's configured memory.</param>
/// <param name="DurationSeconds">Simulated seconds per run.</param>
/// <param name="WindowFromSeconds">Start of the averaged window (it ends with the run).</param>
/// <param name="FileSetMB">The file server's file set.</param>
/// <param name="Clients">The file server's clients.</param>
/// <param name="Seed">Seed of every run.</param>
public sealed record BalloonSetup(IReadOnlyList<double> SizesMB, double DurationSeconds, double WindowFromSeconds, double FileSetMB, int Clients, ulong Seed)
{
    /// <summary>Configured memory of the ballooned VM: the largest size.</summary>
    public double ConfiguredMaxMB => SizesMB[^1];
}

/// <summary>One memory size: the VM configured with it against the largest VM ballooned down to it (means over the window).</summary>
/// <param name="SizeMB">The memory size.</param>
/// <param name="ConfiguredThroughput">Operations/s of the VM configured with <paramref name="SizeMB"/>.</param>
/// <param name="BalloonedThroughput">Operations/s of the largest VM ballooned to <paramref name="SizeMB"/>.</param>
/// <param name="BalloonMB">The ballooned VM's balloon.</param>
/// <param name="ConfiguredGrantedMB">Memory granted to the configured VM.</param>
/// <param name="BalloonedGrantedMB">Memory granted to the ballooned VM.</param>
/// <param name="ConfiguredReserveMB">Kernel structures the configured guest reserves at boot.</param>
/// <param name="BalloonedReserveMB">Kernel structures the ballooned (larger) guest reserves at boot.</param>
public sealed record BalloonPoint(
    double SizeMB,
    double ConfiguredThroughput,
    double BalloonedThroughput,
    double BalloonMB,
    double ConfiguredGrantedMB,
    double BalloonedGrantedMB,
    double ConfiguredReserveMB,
    double BalloonedReserveMB)
{
    /// <summary>How much slower the ballooned VM is, % of the configured one's throughput.</summary>
    public double LossPercent => 100 * (ConfiguredThroughput - BalloonedThroughput) / ConfiguredThroughput;
}

/// <summary>The smallest size's runs over time (the warm-up chart).</summary>
/// <param name="ConfiguredThroughput">The configured VM's operations/s.</param>
/// <param name="BalloonedThroughput">The ballooned VM's operations/s.</param>
/// <param name="BalloonMB">The ballooned VM's balloon.</param>
public sealed record BalloonWarmup(TimeSeries ConfiguredThroughput, TimeSeries BalloonedThroughput, TimeSeries BalloonMB);

/// <summary>Everything the balloon experiment measured.</summary>
/// <param name="Setup">The setup it ran.</param>
/// <param name="Points">One point per size, ascending (the largest is the configured VM twice: ballooned by 0 MB).</param>
/// <param name="Warmup">The smallest size's runs over time (null with a single size).</param>
public sealed record BalloonMeasurements(BalloonSetup Setup, IReadOnlyList<BalloonPoint> Points, BalloonWarmup? Warmup)
{
    /// <summary>The sizes the VM was really ballooned to (all but the largest).</summary>
    public IReadOnlyList<BalloonPoint> LossPoints => [.. Points.Where(p => p.SizeMB != Setup.ConfiguredMaxMB)];

    /// <summary>Smallest throughput loss over the ballooned sizes, %.</summary>
    public double LowestLossPercent => LossPoints.Min(p => p.LossPercent);

    /// <summary>Largest throughput loss over the ballooned sizes, %.</summary>
    public double HighestLossPercent => LossPoints.Max(p => p.LossPercent);

    /// <summary>Largest |throughput loss| over the ballooned sizes, %.</summary>
    public double LargestGapPercent => LossPoints.Max(p => Math.Abs(p.LossPercent));

    /// <summary>The configured VM's throughput at the largest size over that at the smallest.</summary>
    public double Growth => Points[^1].ConfiguredThroughput / Points[0].ConfiguredThroughput;

    /// <summary>Whether every ballooned VM's balloon was within 0.5 MB of its target in the window.</summary>
    public bool BalloonsReachedTargets => LossPoints.All(p => Math.Abs(p.BalloonMB - (Setup.ConfiguredMaxMB - p.SizeMB)) < 0.5);
}
