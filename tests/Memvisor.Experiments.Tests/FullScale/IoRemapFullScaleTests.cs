namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>§7 at full scale: a network VM in high memory, 1..64 MB of socket buffers, thresholds 4..64 copies; demotion beyond the paper.</summary>
public sealed class IoRemapFullScaleTests
{
    private static readonly Lazy<ExperimentResult<IoRemapMeasurements>> Result = FullScaleRun.Of(new IoRemapExperiment());

    private static IoRemapMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void Remapping_cuts_bounce_copies_at_least_100_times_with_4_MB_of_buffers_and_every_transfer_bounces_without_it()
    {
        var main = Measured.Main;
        Assert.Equal(1, main.Off.BouncedFraction, 2);
        Assert.True(main.Off.SteadyBouncesPerSecond >= 100 * main.On.SteadyBouncesPerSecond, $"{main.Off.SteadyBouncesPerSecond} copies/s off, {main.On.SteadyBouncesPerSecond} on");
        FullScaleRun.Reports(Result.Value, ClaimId.IoRemapCutsBounceCopies, holds: true, main.SteadyFactor.Value);
    }

    [Fact]
    public void A_higher_remap_threshold_leaves_more_copies_and_the_claim_names_the_thresholds_where_it_holds()
    {
        var byThreshold = Measured.ByThreshold;
        Assert.Equal([4, 8, 16, 32, 64], byThreshold.Select(p => p.ThresholdCopies));
        Assert.All(byThreshold.Zip(byThreshold.Skip(1)), pair => Assert.True(pair.Second.On.TotalBounces >= pair.First.On.TotalBounces, $"{pair.First.ThresholdCopies}: {pair.First.On.TotalBounces}, {pair.Second.ThresholdCopies}: {pair.Second.On.TotalBounces}"));
        var holding = string.Join(", ", byThreshold.Where(p => p.SteadyFactor.Value >= 100).Select(p => p.ThresholdCopies));
        Assert.Contains($"it holds at {(holding.Length == 0 ? "none" : holding)} copies", Result.Value.Claim(ClaimId.IoRemapCutsBounceCopies).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void When_low_memory_runs_short_cold_pages_are_demoted_and_the_hot_buffers_stop_bouncing()
    {
        var demotion = Measured.Demotion;
        Assert.True(demotion.Demotions > 0);
        Assert.True(demotion.AfterBouncesPerSecond <= Math.Max(1, demotion.SqueezedBouncesPerSecond), $"{demotion.SqueezedBouncesPerSecond}/s squeezed, {demotion.AfterBouncesPerSecond}/s after");
        Assert.True(demotion.FreeLowMB >= demotion.ReserveMB);
        FullScaleRun.Reports(Result.Value, ClaimId.IoRemapDemotesWhenLowIsShort, holds: true, demotion.Demotions);
        Assert.StartsWith("beyond the paper", Result.Value.Claim(ClaimId.IoRemapDemotesWhenLowIsShort).Claim, StringComparison.Ordinal);
    }
}
