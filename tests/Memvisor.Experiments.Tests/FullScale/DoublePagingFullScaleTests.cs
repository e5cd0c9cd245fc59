namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>§3.1 at full scale: a 256 MB guest touching 320 MB on a 224 MB host, ballooned or swapped by the host.</summary>
public sealed class DoublePagingFullScaleTests
{
    private static readonly Lazy<ExperimentResult<DoublePagingMeasurements>> Result = FullScaleRun.Of(new DoublePagingExperiment());

    private static DoublePagingRun Ballooned => Result.Value.Measurements.Ballooned;

    private static DoublePagingRun Swapped => Result.Value.Measurements.Swapped;

    [Fact]
    public void Once_the_balloon_is_at_its_target_the_verdict_follows_the_figures_and_host_swapping_double_pages_more()
    {
        // Does not hold at full scale since each page is reclaimed once (issue 13 item 1) and host paging goes
        // through the queued swap device (item 4): pages the host swapped while the balloon inflated are read
        // back after it has settled (docs/experiments.md). The verdict follows the figures; what stays true is
        // that host swapping alone double-pages in the window, and more than ballooning does.
        Assert.True(Swapped.WindowDoublePagingPages > 0, "host swapping alone double-pages in the window");
        Assert.True(Ballooned.WindowDoublePagingPages < Swapped.WindowDoublePagingPages, $"ballooning {Ballooned.WindowDoublePagingPages}, host swapping {Swapped.WindowDoublePagingPages}");
        var holds = Ballooned.WindowDoublePagingPages <= 0.05 * Swapped.WindowDoublePagingPages;
        FullScaleRun.Reports(Result.Value, ClaimId.DoublePagingAvoidedAtTarget, holds, Ballooned.WindowDoublePagingPages);
    }

    [Fact]
    public void Over_the_whole_run_ballooning_double_pages_only_what_the_host_swapped_while_the_balloon_inflated()
    {
        // Does not hold at full scale (docs/experiments.md): the verdict follows the figures, and the report's reason holds:
        // the host went to hard while the balloon inflated, and every double-paged page is one the host swapped.
        var holds = Swapped.DoublePagingPages > 0 && Ballooned.DoublePagingPages <= 0.05 * Swapped.DoublePagingPages;
        FullScaleRun.Reports(Result.Value, ClaimId.DoublePagingAvoidedOverRun, holds, Ballooned.DoublePagingPages);
        Assert.True(Ballooned.DoublePagingPages <= Ballooned.HostSwapOuts, $"{Ballooned.DoublePagingPages} double-paged of {Ballooned.HostSwapOuts} swapped out");
        if (Ballooned.HostSwapOuts > 0)
        {
            Assert.True(Ballooned.HardSeconds + Ballooned.LowSeconds > 0, "the host swapped, so it went to hard");
            Assert.Contains(Ballooned.Excursion(Result.Value.Measurements.Setup.DurationSeconds), Result.Value.Claim(ClaimId.DoublePagingAvoidedOverRun).Evidence, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ballooning_avoids_more_than_80_percent_of_the_hosts_paging_io()
    {
        var ratio = (Ballooned.HostSwapOuts + Ballooned.HostSwapIns) / (Swapped.HostSwapOuts + Swapped.HostSwapIns);
        Assert.True(ratio < 0.2, $"ballooning's host paging I/O is {ratio:P1} of host swapping's");
        FullScaleRun.Reports(Result.Value, ClaimId.DoublePagingHostIoAvoided, holds: true, ratio);
    }

    [Fact]
    public void The_ballooned_vm_runs_more_than_2_percent_faster()
    {
        var speedup = Ballooned.Throughput / Swapped.Throughput;
        Assert.True(speedup > 1.02, $"x{speedup}");
        FullScaleRun.Reports(Result.Value, ClaimId.DoublePagingBalloonedFaster, holds: true, speedup);
    }
}
