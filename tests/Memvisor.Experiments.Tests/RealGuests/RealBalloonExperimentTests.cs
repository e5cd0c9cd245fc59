using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>Figure 2 on real guests at reduced size: 128 and 192 MiB, configured against 256 MiB ballooned down.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealBalloonExperimentTests
{
    [Fact]
    public void A_guest_ballooned_to_a_size_runs_like_one_configured_with_it_not_like_its_configured_size()
    {
        var result = RealGuestRuns.Run<RealBalloonMeasurements>("balloon");
        var measured = result.Measurements;
        var (small, large) = (measured.Sizes[0], measured.Sizes[^1]);

        // The balloon took the memory: each ballooned guest was at its size in the window.
        Assert.All(measured.Sizes, s => Assert.True(s.BalloonsReached, $"{s.SizeMiB} MiB: the balloon did not reach its size"));

        // The workload is memory-sensitive: 192 MiB reads clearly faster than 128 MiB (claim BalloonThroughputGrowsWithMemory).
        Assert.True(result.Claim(ClaimId.BalloonThroughputGrowsWithMemory).Holds, result.Claim(ClaimId.BalloonThroughputGrowsWithMemory).Evidence);

        // The direction of BalloonCloseToConfigured: ballooned to 128 MiB, the 256 MiB guest reads at a
        // 128 MiB guest's rate, not at a larger guest's: below the configured 192 MiB guest's.
        Assert.True(small.BalloonedRate.Median < large.ConfiguredRate.Median, $"ballooned to {small.SizeMiB}: {small.BalloonedRate.Text()} pages/CPU s; configured {large.SizeMiB}: {large.ConfiguredRate.Text()}");
        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
