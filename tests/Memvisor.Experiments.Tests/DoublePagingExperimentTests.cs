namespace Memvisor.Experiments.Tests;

/// <summary>§3.1 at reduced size: a 64 MB guest touching 80 MB on a 52 MB host, ballooned or swapped by the host.</summary>
public sealed class DoublePagingExperimentTests
{
    private static readonly Lazy<ExperimentResult<DoublePagingMeasurements>> Result = new(() => new DoublePagingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void Host_swapping_double_pages_and_a_ballooned_vm_at_its_target_does_not()
    {
        var (ballooned, swapped) = Runs();

        // Steady state: none with the balloon at its target, some with host swapping alone.
        Assert.Equal(0, ballooned.WindowDoublePagingPages);
        Assert.True(swapped.WindowDoublePagingPages > 0, $"host swapping alone: {swapped.WindowDoublePagingPages} double-paging reads in the window");
        Assert.True(Result.Value.Claim(ClaimId.DoublePagingAvoidedAtTarget).Holds);

        // Over the whole run ballooning double-pages only pages the host swapped while the balloon inflated.
        Assert.True(ballooned.DoublePagingPages <= ballooned.HostSwapOuts);
        Assert.True(swapped.DoublePagingPages > 0);
    }

    [Fact]
    public void Ballooning_moves_the_paging_into_the_guest_and_the_vm_runs_faster()
    {
        var (ballooned, swapped) = Runs();

        // The guest pages its own cold pages instead of the host paging at random.
        Assert.True(ballooned.GuestSwapPages > swapped.GuestSwapPages);
        Assert.True(ballooned.HostSwapOuts + ballooned.HostSwapIns < 0.2 * (swapped.HostSwapOuts + swapped.HostSwapIns));
        Assert.True(ballooned.Throughput > swapped.Throughput, $"ballooning {ballooned.Throughput} accesses/s, host swapping {swapped.Throughput}");
        Assert.True(Result.Value.Claim(ClaimId.DoublePagingHostIoAvoided).Holds);
    }

    [Fact]
    public void The_report_gives_no_paper_number_ours_and_no_ratio_and_says_which_claim_fails()
    {
        var result = Result.Value;
        var md = ExperimentReport.Markdown(result);
        var (ballooned, swapped) = Runs();

        Assert.Contains($"| double-paging reads with ballooning, balloon at target | n/a pages | {ExperimentReport.Number(ballooned.WindowDoublePagingPages)} pages | n/a |", md, StringComparison.Ordinal);

        // The whole-run claim is judged from the data: it holds exactly when host swapping double-pages and ballooning's total is within 5% of it.
        var wholeRun = result.Claim(ClaimId.DoublePagingAvoidedOverRun);
        Assert.Equal(swapped.DoublePagingPages > 0 && ballooned.DoublePagingPages <= DoublePagingExperiment.AvoidsFraction * swapped.DoublePagingPages, wholeRun.Holds);
        Assert.Equal(ballooned.DoublePagingPages, wholeRun.Measured);
        Assert.Null(wholeRun.Paper); // the paper argues it, with no number
        Assert.Contains($"{(wholeRun.Holds ? "holds" : "*does not hold*")} (`{wholeRun.Id}`): {wholeRun.Claim}.", md, StringComparison.Ordinal);
    }

    private static (DoublePagingRun Ballooned, DoublePagingRun Swapped) Runs() => (Result.Value.Measurements.Ballooned, Result.Value.Measurements.Swapped);
}
