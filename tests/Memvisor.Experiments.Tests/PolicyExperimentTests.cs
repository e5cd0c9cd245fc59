using Memvisor.Reporting;
using Memvisor.Scenarios;

namespace Memvisor.Experiments.Tests;

/// <summary>The policy experiment (Figure 8) at reduced scale: hard and low are brief, ballooning reclaims most, idle VMs lose memory to active ones.</summary>
public sealed class PolicyExperimentTests
{
    private static readonly Lazy<ExperimentResult<PolicyMeasurements>> Reduced = new(() => new PolicyExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void Hard_and_low_are_brief_and_balloons_hold_most_reclaimed_memory()
    {
        var result = Reduced.Value;
        var secondsIn = result.Measurements.SecondsInState;

        var tight = secondsIn[FreeMemoryStates.Hard] + secondsIn[FreeMemoryStates.Low];
        var window = result.Measurements.WindowSeconds;
        Assert.True(tight <= 0.05 * window, $"hard + low for {tight} s of the {window} s window");

        // The VMs boot before the measured window: the states are counted over the window alone, the boot apart.
        Assert.Equal(60, result.Measurements.WindowFromSeconds);
        Assert.Equal(result.SimulatedSeconds - 60, window, 6);
        Assert.Equal(window, secondsIn.Values.Sum(), 6);
        Assert.Equal(60, result.Measurements.BootSecondsInState.Values.Sum(), 6);
        var balloonShare = result.Measurements.Reclamation.BalloonShare;
        Assert.True(balloonShare > 0.5, $"balloon share {balloonShare}");
        var states = result.Claim(ClaimId.PolicyMostlyHighOrSoft);
        Assert.True(states.Holds, states.Evidence);
        Assert.Equal(100 * (secondsIn[FreeMemoryStates.High] + secondsIn[FreeMemoryStates.Soft]) / window, states.Measured, 9);
        Assert.Equal(100 * balloonShare, result.Claim(ClaimId.PolicyBallooningDoesMost).Measured, 9);
    }

    [Fact]
    public void The_least_active_VMs_hold_less_than_their_share_and_the_most_active_more()
    {
        var measured = Reduced.Value.Measurements;
        var byActivity = measured.Vms.OrderBy(r => r.ActiveMB / r.ConfiguredMB).ToList();

        // The least active VM holds less than its entitlement by shares, the most active more, and held memory ranks with activity.
        Assert.True(byActivity[0].HeldMB < byActivity[0].EntitlementMB, $"{byActivity[0].Name}: holds {byActivity[0].HeldMB} MB, entitled to {byActivity[0].EntitlementMB} MB");
        Assert.True(byActivity[^1].HeldMB > byActivity[^1].EntitlementMB, $"{byActivity[^1].Name}: holds {byActivity[^1].HeldMB} MB, entitled to {byActivity[^1].EntitlementMB} MB");
        Assert.True(measured.RankCorrelation >= 0.7, $"rank correlation {measured.RankCorrelation}");

        // The claim asks more (the two least active both below their entitlement); since the VMs boot before the
        // measured window the second least active (citrix) holds a little above it in high state, so its verdict follows the figures.
        var tracks = Reduced.Value.Claim(ClaimId.PolicyAllocationTracksActivity);
        Assert.Equal(measured.RankCorrelation, tracks.Measured);
        Assert.Equal(measured.RankCorrelation >= 0.7 && byActivity.Take(2).All(r => r.HeldMB < r.EntitlementMB) && byActivity[^1].HeldMB > byActivity[^1].EntitlementMB, tracks.Holds);
    }

    [Fact]
    public void The_report_states_the_papers_overcommitment_ours_and_the_ratio()
    {
        var md = ExperimentReport.Markdown(Reduced.Value);

        // Reduced: 1472 / 4 = 368 MB configured + 5 * 8 MB overhead on 256 MB: (408 / 256 - 1) * 100 = 59.375%; 59.375 / 60 = 0.990.
        Assert.Equal(59.375, Reduced.Value.Measurements.OvercommitPercent, 9);
        Assert.Contains("| overcommitment (configured + overhead over machine memory) | 60 % | 59.38 % | 0.99 |", md, StringComparison.Ordinal);
        Assert.Equal(5, Reduced.Value.Measurements.Reclamation.SwapBoundMB); // the paper's 20 MB on 1 GB, scaled to 256 MB
        Assert.Contains("(median) | 5 MB |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Time_in_each_state_is_counted_from_the_log_within_the_window_only()
    {
        // high 0-10, soft 10-12, hard 12-12.5, soft 12.5-20, high from 20: the window 11-30.
        StateTransition[] log =
        [
            new(10, FreeMemoryStates.High, FreeMemoryStates.Soft), new(12, FreeMemoryStates.Soft, FreeMemoryStates.Hard),
            new(12.5, FreeMemoryStates.Hard, FreeMemoryStates.Soft), new(20, FreeMemoryStates.Soft, FreeMemoryStates.High),
        ];

        var seconds = PolicyExperiment.SecondsInStates(log, 11, 30);

        Assert.Equal(10, seconds[FreeMemoryStates.High], 9);
        Assert.Equal(1 + 7.5, seconds[FreeMemoryStates.Soft], 9);
        Assert.Equal(0.5, seconds[FreeMemoryStates.Hard], 9);
        Assert.Equal(0, seconds[FreeMemoryStates.Low], 9);
        Assert.Equal(10, PolicyExperiment.SecondsInStates(log, 0, 10)[FreeMemoryStates.High], 9);
    }

    [Fact]
    public void Spearman_of_a_reversed_order_is_minus_one_and_ties_share_ranks()
    {
        Assert.Equal(-1, PolicyExperiment.Spearman([1, 2, 3], [30, 20, 10]), 9);
        // x ranks 0, 1, 2; y = (5, 5, 9) ranks 0.5, 0.5, 2: deviations (-1, 0, 1) and (-0.5, -0.5, 1) -> 1.5 / sqrt(2 * 1.5) = 0.866.
        Assert.Equal(1.5 / Math.Sqrt(2 * 1.5), PolicyExperiment.Spearman([1, 2, 3], [5, 5, 9]), 9);
    }
}
