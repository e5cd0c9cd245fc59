/*
 * What the balloon experiment measures on real guests (Figure 2): per memory size and repeat, the agent's
 * page-cache read rate in a guest configured with that memory and in a larger guest ballooned down to it,
 * run side by side (so both see the same host load); per size, the spread of both over the repeats and of
 * the loss; the guests' own MemTotal (what their kernels keep for themselves at boot).
 */
namespace Memvisor.Experiments.RealGuests;

/// <summary>The setup of the real balloon experiment.</summary>
/// <param name="SizesMiB">The memory sizes compared.</param>
/// <param name="ConfiguredMaxMiB">The larger guest's configured memory (ballooned down to each size).</param>
/// <param name="FileMiB">The data disk the agent reads through the page cache.</param>
/// <param name="Repeats">Pairs run per size.</param>
/// <param name="WarmSeconds">Agent seconds of reading before the window.</param>
/// <param name="WindowSeconds">Agent seconds measured.</param>
public sealed record RealBalloonSetup(IReadOnlyList<int> SizesMiB, int ConfiguredMaxMiB, int FileMiB, int Repeats, double WarmSeconds, double WindowSeconds);

/// <summary>One pair: a configured and a ballooned guest at one size, run side by side.</summary>
/// <param name="SizeMiB">The memory both have.</param>
/// <param name="Repeat">Which repeat (0-based).</param>
/// <param name="ConfiguredRate">The configured guest's reads per second of its QEMU's CPU time (utime + stime over the window).</param>
/// <param name="BalloonedRate">The ballooned guest's reads per second of its QEMU's CPU time.</param>
/// <param name="ConfiguredWallRate">The configured guest's reads per second of the agent's clock.</param>
/// <param name="BalloonedWallRate">The ballooned guest's reads per second of the agent's clock.</param>
/// <param name="BalloonedActualMiB">The ballooned guest's memory per query-balloon during the window.</param>
/// <param name="ConfiguredMemTotalMiB">The configured guest's MemTotal (guest stats), if reported.</param>
/// <param name="BalloonedMemTotalMiB">The ballooned guest's MemTotal (which ballooning does not lower), if reported.</param>
public sealed record RealBalloonPair(int SizeMiB, int Repeat, double ConfiguredRate, double BalloonedRate, double ConfiguredWallRate, double BalloonedWallRate, double BalloonedActualMiB, double? ConfiguredMemTotalMiB, double? BalloonedMemTotalMiB)
{
    /// <summary>The ballooned guest's throughput loss against the configured one, %.</summary>
    public double LossPercent => 100 * (ConfiguredRate - BalloonedRate) / ConfiguredRate;
}

/// <summary>One size over its repeats.</summary>
/// <param name="SizeMiB">The memory size.</param>
/// <param name="ConfiguredRate">Configured reads per CPU second.</param>
/// <param name="BalloonedRate">Ballooned reads per CPU second.</param>
/// <param name="LossPercent">The loss, % (per pair).</param>
/// <param name="BalloonsReached">Every ballooned guest was within 2 MiB of the size in its window.</param>
public sealed record RealBalloonSize(int SizeMiB, Spread ConfiguredRate, Spread BalloonedRate, Spread LossPercent, bool BalloonsReached)
{
    /// <summary>The repeats disagree on the sign of the loss: the difference is within TCG's noise.</summary>
    public bool WithinNoise => LossPercent.Min <= 0 && LossPercent.Max >= 0;
}

/// <summary>Everything the real balloon experiment measured, and the simulator's result beside it.</summary>
/// <param name="Setup">The setup.</param>
/// <param name="Pairs">Every pair run.</param>
/// <param name="Sizes">Per size, over the repeats.</param>
/// <param name="Simulator">The simulator's balloon experiment at the same scale.</param>
public sealed record RealBalloonMeasurements(RealBalloonSetup Setup, IReadOnlyList<RealBalloonPair> Pairs, IReadOnlyList<RealBalloonSize> Sizes, ExperimentResult Simulator)
{
    /// <summary>The largest |median loss| over the sizes, %.</summary>
    public double LargestGapPercent => Sizes.Max(s => Math.Abs(s.LossPercent.Median));

    /// <summary>The smallest median loss over the sizes, %.</summary>
    public double LowestLossPercent => Sizes.Min(s => s.LossPercent.Median);

    /// <summary>Configured throughput at the largest size over the smallest (medians).</summary>
    public double Growth => Sizes[^1].ConfiguredRate.Median / Sizes[0].ConfiguredRate.Median;
}
