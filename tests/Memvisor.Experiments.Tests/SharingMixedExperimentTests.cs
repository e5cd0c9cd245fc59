namespace Memvisor.Experiments.Tests;

/// <summary>Figure 5 analogue at reduced size: sharing saves memory on hosts of mixed guests; this machine's memory is a separate row.</summary>
public sealed class SharingMixedExperimentTests
{
    private static readonly Lazy<ExperimentResult<SharingMixedMeasurements>> Result = new(() =>
        new SharingMixedExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    [Fact]
    public void Every_mixed_host_reclaims_memory_and_the_linux_hosts_share_zero_pages()
    {
        var result = Result.Value;
        var measured = result.Measurements;
        Assert.Equal(["A", "B", "C"], measured.Hosts.Select(h => h.Host.Name));
        foreach (var host in measured.Hosts)
        {
            Assert.True(host.State.SavedMB > 0, $"host {host.Host.Name} reclaims nothing");
            Assert.True(host.State.SharedMB >= host.State.SavedMB, $"host {host.Host.Name}: reclaimed {host.State.SavedMB} MB exceeds shared {host.State.SharedMB} MB");
        }

        Assert.True(measured.B.State.ZeroMB > 0);
        Assert.True(measured.C.State.ZeroMB > 0);
        var every = result.Claim(ClaimId.MixedEveryHostReclaims);
        Assert.True(every.Holds);
        Assert.Equal(measured.Hosts.Min(h => h.ReclaimedPercent), every.Measured);
        Assert.True(result.Claim(ClaimId.MixedLinuxHostsShareZeroPages).Holds);
        Assert.Equal(measured.CReclaimsLeast, result.Claim(ClaimId.MixedFewDifferentImagesReclaimLeast).Holds);
    }

    [Fact]
    public void This_machines_memory_is_a_separate_row_or_skipped_with_the_reason()
    {
        // Whatever this machine holds: only that the row is there (real) or the report says why not.
        var result = Result.Value;
        var md = ExperimentReport.Markdown(result);
        if (result.Measurements.Real.Estimate is null)
        {
            Assert.Contains(result.Notes, n => n.StartsWith("real memory: skipped:", StringComparison.Ordinal));
        }
        else
        {
            Assert.Contains("| this machine's processes (real) |", md, StringComparison.Ordinal);
            Assert.DoesNotContain(result.Comparisons, c => c.Quantity.Contains("machine", StringComparison.Ordinal));
        }

        Assert.All(result.Measurements.Real.Notes, n => Assert.Contains("real memory: " + n, result.Notes));
    }

    [Fact]
    public void Report_states_the_papers_number_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        // Host A: 673 of 2048 MB reclaimed = 32.86%.
        var a = result.Measurements.A;
        Assert.Equal(100.0 * 673 / 2048, a.PaperReclaimedPercent, 9);
        Assert.Contains(result.Comparisons, c => c.Paper == a.PaperReclaimedPercent && c.Memvisor == a.ReclaimedPercent);
    }
}
