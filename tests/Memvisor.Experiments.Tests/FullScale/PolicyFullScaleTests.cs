using Memvisor.Reporting;

namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Figure 8 at full scale: five Windows VMs, 1472 MB + 160 MB overhead on 1024 MB, booted before a 40-minute measured window.</summary>
public sealed class PolicyFullScaleTests
{
    private static readonly Lazy<ExperimentResult<PolicyMeasurements>> Result = FullScaleRun.Of(new PolicyExperiment());

    private static PolicyMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void The_vms_boot_before_a_40_minute_window_and_high_and_soft_hold_at_least_95_percent_of_it()
    {
        Assert.Equal(300, Measured.WindowFromSeconds);
        Assert.Equal(40 * 60, Measured.WindowSeconds);
        Assert.Equal(Measured.WindowSeconds, Measured.SecondsInState.Values.Sum(), 6);
        var highOrSoft = Measured.SecondsInState[FreeMemoryStates.High] + Measured.SecondsInState[FreeMemoryStates.Soft];
        Assert.True(highOrSoft >= 0.95 * Measured.WindowSeconds, $"high + soft {highOrSoft} s of {Measured.WindowSeconds} s");
        FullScaleRun.Reports(Result.Value, ClaimId.PolicyMostlyHighOrSoft, holds: true, 100 * highOrSoft / Measured.WindowSeconds);
    }

    [Fact]
    public void Whether_ballooning_does_most_and_swap_stays_under_20_MB_follows_the_figures()
    {
        // Does not hold at full scale (docs/experiments.md): pages swapped during the boot stay swapped into the window.
        var r = Measured.Reclamation;
        Assert.Equal(20, r.SwapBoundMB);
        FullScaleRun.Reports(Result.Value, ClaimId.PolicyBallooningDoesMost, holds: r.BalloonShare > 0.5 && r.UnderBoundFraction > 0.5, 100 * r.BalloonShare);
    }

    [Fact]
    public void Whether_allocation_tracks_activity_follows_the_figures_and_the_most_active_vm_holds_more_than_the_least()
    {
        var byActivity = Measured.ByActivity;
        Assert.True(byActivity[^1].HeldMB > byActivity[0].HeldMB, $"{byActivity[^1].Name} {byActivity[^1].HeldMB} MB, {byActivity[0].Name} {byActivity[0].HeldMB} MB");
        var holds = Measured.RankCorrelation >= 0.7 && byActivity.Take(2).All(v => v.HeldMB < v.EntitlementMB) && byActivity[^1].HeldMB > byActivity[^1].EntitlementMB;
        FullScaleRun.Reports(Result.Value, ClaimId.PolicyAllocationTracksActivity, holds, Measured.RankCorrelation);
    }
}
