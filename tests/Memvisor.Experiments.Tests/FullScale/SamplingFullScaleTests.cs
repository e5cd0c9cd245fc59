namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Figure 6 at full scale: a 256 MB Windows VM's toucher, 100 pages per 30 s, and the sweep over the estimator's fast gain and sample count.</summary>
public sealed class SamplingFullScaleTests
{
    private static readonly Lazy<ExperimentResult<SamplingMeasurements>> Result = FullScaleRun.Of(new SamplingExperiment());

    private static SamplingMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void The_estimate_covers_a_step_up_at_least_3_times_faster_than_a_step_down()
    {
        var slowestRise = Measured.Rises.Max(s => s.Periods90);
        var fastestFall = Measured.Falls.Min(s => s.Periods90);
        Assert.True(fastestFall >= 3 * slowestRise, $"rise {slowestRise} periods, fall {fastestFall}");
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingRisesFastFallsSlowly, holds: true, fastestFall / slowestRise);
    }

    [Fact]
    public void Whether_it_rises_within_2_periods_follows_the_figures_and_the_sweep_agrees_at_the_default_gain()
    {
        // At the default fast gain 0.5 it does not hold (3 periods, docs/experiments.md); the sweep's own run at that gain agrees.
        var slowestRise = Measured.Rises.Max(s => s.Periods90);
        var holds = slowestRise <= 2;
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingRisesWithinTwoPeriods, holds, slowestRise);
        var atDefault = Measured.Sensitivity.ByGain.Single(p => p.FastGain == new Core.Sampling.SamplingOptions().FastGain);
        Assert.Equal(holds, atDefault.Rise.Periods90 <= 2);
        Assert.Contains($"it holds for fast gains: {Measured.Sensitivity.GainsWhereClaimHolds}", Result.Value.Claim(ClaimId.SamplingRisesWithinTwoPeriods).Evidence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_larger_fast_gain_rises_faster_the_highest_in_at_most_half_the_periods_of_the_lowest()
    {
        var byGain = Measured.Sensitivity.ByGain;
        Assert.Equal([0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], byGain.Select(p => p.FastGain));
        Assert.True(byGain[0].Rise.Periods90 >= 2 * byGain[^1].Rise.Periods90, $"gain {byGain[0].FastGain}: {byGain[0].Rise.Periods90} periods, gain {byGain[^1].FastGain}: {byGain[^1].Rise.Periods90}");
        // A gain of 1 follows within 2 periods (the last period's count plus the truth's one-period lag); 0.3 does not.
        Assert.True(byGain[^1].RisesWithinClaim);
        Assert.False(byGain[0].RisesWithinClaim);
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingRiseSetByFastGain, holds: true, byGain[0].Rise.Periods90 / byGain[^1].Rise.Periods90);
    }

    [Fact]
    public void More_pages_per_period_give_a_smaller_settled_error()
    {
        var byPages = Measured.Sensitivity.BySamplePages;
        Assert.Equal([25, 50, 100, 200, 400], byPages.Select(p => p.SamplePages));
        Assert.True(byPages[^1].SettledErrorPercent < byPages[0].SettledErrorPercent, $"{byPages[0].SamplePages} pages: {byPages[0].SettledErrorPercent}%, {byPages[^1].SamplePages}: {byPages[^1].SettledErrorPercent}%");
    }

    [Fact]
    public void The_estimate_takes_at_least_5_periods_to_come_90_percent_down()
    {
        var fastestFall = Measured.Falls.Min(s => s.Periods90);
        Assert.True(fastestFall >= 5, $"{fastestFall} periods");
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingFallsSlowly, holds: true, fastestFall);
    }

    [Fact]
    public void Between_changes_the_estimate_is_within_10_percent_of_memory_of_the_truth()
    {
        var errorPercent = 100 * Measured.Tracking.MeanErrorMB / 256;
        Assert.True(Measured.Tracking.Samples > 100);
        Assert.InRange(errorPercent, 0, 10);
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingTracksTruth, holds: true, errorPercent);
    }

    [Fact]
    public void Windows_touches_at_least_90_percent_of_its_memory_in_the_first_period_and_linux_does_not()
    {
        var boot = Measured.Boot;
        Assert.True(boot.Windows.FirstPeriodTruthMB >= 0.9 * 256, $"Windows {boot.Windows.FirstPeriodTruthMB} MB");
        Assert.True(boot.Linux.FirstPeriodTruthMB < 0.9 * 256, $"Linux {boot.Linux.FirstPeriodTruthMB} MB");
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingBootSpikeFromZeroPageThread, holds: true, 100 * boot.Windows.FirstPeriodTruthMB / 256);
    }

    [Fact]
    public void Started_from_zero_the_windows_estimate_peaks_at_least_twice_as_high_as_linux()
    {
        var boot = Measured.Boot;
        Assert.True(boot.WindowsFromZero.PeakEstimateMB >= 2 * boot.LinuxFromZero.PeakEstimateMB, $"Windows {boot.WindowsFromZero.PeakEstimateMB} MB, Linux {boot.LinuxFromZero.PeakEstimateMB} MB");
        FullScaleRun.Reports(Result.Value, ClaimId.SamplingBootSpikeMeasured, holds: true, boot.WindowsFromZero.PeakEstimateMB / boot.LinuxFromZero.PeakEstimateMB);
    }
}
