using System.Globalization;

namespace Memvisor.Experiments.Tests;

/// <summary>§3.1 at reduced size: a 64 MB guest touching 80 MB on a 52 MB host, ballooned or swapped by the host.</summary>
public sealed class DoublePagingExperimentTests
{
    private static readonly Lazy<ExperimentResult> Result = new(() => new DoublePagingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    // Columns of the "runs" table.
    private const int Throughput = 1, GuestSwap = 2, HostSwapOuts = 3, HostSwapIns = 4, DoublePaging = 5, WindowDoublePaging = 8;

    [Fact]
    public void Host_swapping_double_pages_and_a_ballooned_vm_at_its_target_does_not()
    {
        var (ballooned, swapped) = Runs();

        // Steady state: none with the balloon at its target, some with host swapping alone.
        Assert.Equal(0, ballooned[WindowDoublePaging]);
        Assert.True(swapped[WindowDoublePaging] > 0, $"host swapping alone: {swapped[WindowDoublePaging]} double-paging reads in the window");

        // Over the whole run ballooning double-pages only pages the host swapped while the balloon inflated.
        Assert.True(ballooned[DoublePaging] <= ballooned[HostSwapOuts]);
        Assert.True(swapped[DoublePaging] > 0);
    }

    [Fact]
    public void Ballooning_moves_the_paging_into_the_guest_and_the_vm_runs_faster()
    {
        var (ballooned, swapped) = Runs();

        // The guest pages its own cold pages instead of the host paging at random.
        Assert.True(ballooned[GuestSwap] > swapped[GuestSwap]);
        Assert.True(ballooned[HostSwapOuts] + ballooned[HostSwapIns] < 0.2 * (swapped[HostSwapOuts] + swapped[HostSwapIns]));
        Assert.True(ballooned[Throughput] > swapped[Throughput], $"ballooning {ballooned[Throughput]} accesses/s, host swapping {swapped[Throughput]}");
    }

    [Fact]
    public void The_report_gives_the_papers_zero_ours_and_no_ratio_and_says_which_claim_fails()
    {
        var result = Result.Value;
        var md = ExperimentReport.Markdown(result);
        var steady = result.Comparisons.Single(c => c.Quantity == "double-paging reads with ballooning, balloon at target");

        Assert.Equal(0, steady.Paper);
        Assert.Contains($"| double-paging reads with ballooning, balloon at target | 0 pages | {ExperimentReport.Number(steady.Memvisor)} pages | n/a |", md, StringComparison.Ordinal);

        // The whole-run claim is judged from the data: it holds exactly when host swapping double-pages and ballooning's total is within 5% of it.
        var (ballooned, swapped) = Runs();
        var wholeRun = result.Claims.Single(c => c.Claim.StartsWith("Ballooning avoids double paging over the whole run", StringComparison.Ordinal));
        Assert.Equal(swapped[DoublePaging] > 0 && ballooned[DoublePaging] <= DoublePagingExperiment.AvoidsFraction * swapped[DoublePaging], wholeRun.Holds);
    }

    private static (double[] Ballooned, double[] Swapped) Runs()
    {
        var rows = Result.Value.Tables.Single(t => t.FileName == "runs").Rows;
        static double[] Parse(IReadOnlyList<string> row) => [double.NaN, .. row.Skip(1).Select(c => double.Parse(c, CultureInfo.InvariantCulture))];
        return (Parse(rows.Single(r => r[0] == "ballooning")), Parse(rows.Single(r => r[0] == "host swapping")));
    }
}
