namespace Memvisor.Experiments.Tests;

/// <summary>Figure 4 at reduced size: sharing grows with identical VMs, one VM shares mostly zero pages, throughput does not suffer.</summary>
public sealed class SharingScalingExperimentTests
{
    private static readonly Lazy<ExperimentResult<SharingScalingMeasurements>> Result = new(() =>
        new SharingScalingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    [Fact]
    public void Reclaimed_memory_grows_with_the_number_of_identical_vms()
    {
        var result = Result.Value;
        var points = result.Measurements.Points;
        var reclaimed = points.Select(p => p.On.SavedMB).ToArray();

        Assert.Equal([1, 2, 3], points.Select(p => p.Vms));
        // Each VM added brings the same kernel and code pages: the host keeps one copy of each.
        Assert.True(reclaimed[1] > reclaimed[0] && reclaimed[2] > reclaimed[1], $"reclaimed MB at 1, 2, 3 VMs: {string.Join(", ", reclaimed)}");
        Assert.True(reclaimed[2] > 2 * reclaimed[0], $"3 VMs reclaim {reclaimed[2]} MB, one {reclaimed[0]} MB");
        Assert.True(reclaimed[2] / points[2].ConfiguredMB > reclaimed[0] / points[0].ConfiguredMB, "the reclaimed fraction grows");
        var grows = result.Claim(ClaimId.SharingGrowsWithVms);
        Assert.True(grows.Holds);
        Assert.Equal(reclaimed[2] / reclaimed[0], grows.Measured, 9);
        Assert.Equal(60, result.Claim(ClaimId.SharingFractionGrowsWithVms).Paper);
    }

    [Fact]
    public void One_vm_alone_reclaims_mostly_zero_pages_and_sharing_costs_no_throughput()
    {
        var result = Result.Value;
        var one = result.Measurements.One.On;

        Assert.True(one.SavedMB > 0);
        Assert.True(one.ZeroSavedMB > one.SavedMB / 2, $"one VM: {one.ZeroSavedMB} of {one.SavedMB} MB zero");
        Assert.True(result.Claim(ClaimId.SharingOneVmMostlyZeroPages).Holds);
        var changes = result.Measurements.ThroughputChanges;
        Assert.Equal([1, 3], result.Measurements.Compared.Select(p => p.Vms));
        // The reduced run raises scan rates far more than the full one (to consider each page as often in a few
        // simulated seconds), and the scanner's CPU is charged to the VMs (issue 13 item 8), so its throughput cost
        // is larger here (about -5.5%) than at full scale: the at-most-5% claim is asserted on the full-scale run
        // (FullScale/SharingScalingFullScaleTests). Here: the report states the largest change measured, and
        // sharing never makes a VM faster by more than noise.
        Assert.All(changes, c => Assert.True(c <= 1, $"sharing on made the VMs {c}% faster"));
        Assert.Equal(changes.Max(Math.Abs), result.Claim(ClaimId.SharingCostsNoThroughput).Measured);
    }

    [Fact]
    public void Report_states_the_papers_number_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        Assert.Contains(result.Comparisons, c => c.Paper == 67 && c.Unit == "%");
        Assert.Contains(result.Comparisons, c => c.Paper == 5 && c.Unit == "MB" && c.Memvisor == result.Measurements.One.On.SavedMB);
    }
}
