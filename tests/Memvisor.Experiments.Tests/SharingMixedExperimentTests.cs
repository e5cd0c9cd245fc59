namespace Memvisor.Experiments.Tests;

/// <summary>Figure 5 analogue at reduced size: sharing saves memory on hosts of mixed guests; this machine's memory is a separate row.</summary>
public sealed class SharingMixedExperimentTests
{
    private static readonly Lazy<ExperimentResult> Result = new(() =>
        new SharingMixedExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    [Fact]
    public void Every_mixed_host_reclaims_memory_and_the_linux_hosts_share_zero_pages()
    {
        var result = Result.Value;
        foreach (var host in new[] { "A", "B", "C" })
        {
            var reclaimed = SharingReportAssert.Cell(result, "hosts", $"{host} (simulated)", "reclaimed (MB)");
            var shared = SharingReportAssert.Cell(result, "hosts", $"{host} (simulated)", "shared (MB)");
            Assert.True(reclaimed > 0, $"host {host} reclaims nothing");
            Assert.True(shared >= reclaimed, $"host {host}: reclaimed {reclaimed} MB exceeds shared {shared} MB");
        }

        Assert.True(SharingReportAssert.Cell(result, "hosts", "B (simulated)", "zero (MB)") > 0);
        Assert.True(SharingReportAssert.Cell(result, "hosts", "C (simulated)", "zero (MB)") > 0);
        Assert.True(result.Claims.Single(c => c.Claim.StartsWith("sharing reclaims memory on every", StringComparison.Ordinal)).Holds);
    }

    [Fact]
    public void This_machines_memory_is_a_separate_row_or_skipped_with_the_reason()
    {
        // Whatever this machine holds: only that the row is there (real) or the report says why not.
        var result = Result.Value;
        var table = result.Tables.Single(t => t.FileName == "hosts");
        var real = table.Rows.Where(r => r[0].EndsWith("(real)", StringComparison.Ordinal)).ToList();
        if (real.Count == 0)
        {
            Assert.Contains(result.Notes, n => n.StartsWith("real memory: skipped:", StringComparison.Ordinal));
        }
        else
        {
            Assert.Single(real);
            Assert.DoesNotContain(result.Comparisons, c => c.Quantity.Contains("machine", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Report_states_the_papers_number_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        // Host A: 673 of 2048 MB reclaimed = 32.86%.
        Assert.Contains(result.Comparisons, c => c.Quantity.StartsWith("host A: reclaimed", StringComparison.Ordinal) && Math.Abs(c.Paper - (100.0 * 673 / 2048)) < 1e-9);
    }
}
