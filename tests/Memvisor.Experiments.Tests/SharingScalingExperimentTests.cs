namespace Memvisor.Experiments.Tests;

/// <summary>Figure 4 at reduced size: sharing grows with identical VMs, one VM shares mostly zero pages, throughput does not suffer.</summary>
public sealed class SharingScalingExperimentTests
{
    private static readonly Lazy<ExperimentResult> Result = new(() =>
        new SharingScalingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    [Fact]
    public void Reclaimed_memory_grows_with_the_number_of_identical_vms()
    {
        var result = Result.Value;
        var vms = SharingReportAssert.Column(result, "points", "VMs");
        var reclaimed = SharingReportAssert.Column(result, "points", "reclaimed (MB)");
        var percent = SharingReportAssert.Column(result, "points", "reclaimed (% of VM memory)");

        Assert.Equal([1, 2, 3], vms);
        // Each VM added brings the same kernel and code pages: the host keeps one copy of each.
        Assert.True(reclaimed[1] > reclaimed[0] && reclaimed[2] > reclaimed[1], $"reclaimed MB at 1, 2, 3 VMs: {string.Join(", ", reclaimed)}");
        Assert.True(reclaimed[2] > 2 * reclaimed[0], $"3 VMs reclaim {reclaimed[2]} MB, one {reclaimed[0]} MB");
        Assert.True(percent[2] > percent[0], $"reclaimed % at 1 and 3 VMs: {percent[0]}, {percent[2]}");
        Assert.True(result.Claims.Single(c => c.Claim.StartsWith("sharing grows", StringComparison.Ordinal)).Holds);
    }

    [Fact]
    public void One_vm_alone_reclaims_mostly_zero_pages_and_sharing_costs_no_throughput()
    {
        var result = Result.Value;
        var reclaimed = SharingReportAssert.Column(result, "points", "reclaimed (MB)");
        var zero = SharingReportAssert.Column(result, "points", "zero reclaimed (MB)");

        Assert.True(reclaimed[0] > 0);
        Assert.True(zero[0] > reclaimed[0] / 2, $"one VM: {zero[0]} of {reclaimed[0]} MB zero");
        var changes = result.Comparisons.Where(c => c.Quantity.StartsWith("throughput change", StringComparison.Ordinal)).Select(c => c.Memvisor).ToList();
        Assert.Equal(2, changes.Count);
        Assert.All(changes, c => Assert.InRange(c, -5, 5));
    }

    [Fact]
    public void Report_states_the_papers_number_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        Assert.Contains(result.Comparisons, c => c.Paper == 67 && c.Unit == "%");
        Assert.Contains(result.Comparisons, c => c.Paper == 5 && c.Unit == "MB");
    }
}
