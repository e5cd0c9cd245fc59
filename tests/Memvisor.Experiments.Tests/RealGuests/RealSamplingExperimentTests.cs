using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>Figure 6 on a real guest at reduced size: a toucher's set steps 8 -> 96 -> 16 MiB, 1 s periods.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealSamplingExperimentTests
{
    [Fact]
    public void The_estimate_from_referenced_bits_rises_fast_falls_slowly_and_tracks_the_agents_truth()
    {
        var result = RealGuestRuns.Run<RealSamplingMeasurements>("sampling");
        var measured = result.Measurements;
        var rise = Assert.Single(measured.Rises);
        var fall = Assert.Single(measured.Falls);

        // The steps are the agent's: up, then down.
        Assert.True(rise.ToMiB > rise.FromMiB + 32 && fall.ToMiB < fall.FromMiB - 32, $"rise {rise.FromMiB:0} -> {rise.ToMiB:0} MiB, fall {fall.FromMiB:0} -> {fall.ToMiB:0} MiB");

        // Claims SamplingRisesFastFallsSlowly and SamplingTracksTruth hold; a rise takes a few periods, a fall many.
        Assert.True(result.Claim(ClaimId.SamplingRisesFastFallsSlowly).Holds, result.Claim(ClaimId.SamplingRisesFastFallsSlowly).Evidence);
        Assert.True(result.Claim(ClaimId.SamplingFallsSlowly).Holds, result.Claim(ClaimId.SamplingFallsSlowly).Evidence);
        Assert.True(result.Claim(ClaimId.SamplingTracksTruth).Holds, result.Claim(ClaimId.SamplingTracksTruth).Evidence);
        Assert.InRange(rise.Periods90, 1, 8);

        // The Windows boot-spike claims cannot be judged on Linux guests, and the report says so.
        Assert.DoesNotContain(result.Claims, c => c.Id is ClaimId.SamplingBootSpikeFromZeroPageThread or ClaimId.SamplingBootSpikeMeasured);
        var table = Assert.Single(result.Tables, t => t.FileName == "side-by-side");
        Assert.StartsWith("not judged: ", table.Rows.Single(r => r[0] == nameof(ClaimId.SamplingBootSpikeMeasured))[4], StringComparison.Ordinal);
        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
