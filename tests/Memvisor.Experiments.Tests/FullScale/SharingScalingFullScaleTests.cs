namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Figure 4 at full scale: 1..10 identical 40 MB Linux VMs.</summary>
public sealed class SharingScalingFullScaleTests
{
    private static readonly Lazy<ExperimentResult<SharingScalingMeasurements>> Result = FullScaleRun.Of(new SharingScalingExperiment());

    private static SharingScalingMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void Reclaimed_memory_grows_with_each_identical_vm_added()
    {
        var points = Measured.Points;
        Assert.Equal(Enumerable.Range(1, 10), points.Select(p => p.Vms));
        // Never falls by more than 2% from one count to the next, and 10 VMs reclaim far more than one.
        Assert.All(points.Zip(points.Skip(1)), pair => Assert.True(pair.Second.On.SavedMB >= 0.98 * pair.First.On.SavedMB, $"{pair.First.Vms} VMs {pair.First.On.SavedMB} MB, {pair.Second.Vms} VMs {pair.Second.On.SavedMB} MB"));
        Assert.True(points[^1].On.SavedMB > 5 * points[0].On.SavedMB);
        FullScaleRun.Reports(Result.Value, ClaimId.SharingGrowsWithVms, holds: true, points[^1].On.SavedMB / points[0].On.SavedMB);
    }

    [Fact]
    public void The_reclaimed_fraction_of_vm_memory_grows_from_one_vm_to_ten()
    {
        double Percent(SharingScalingPoint p) => 100 * p.On.SavedMB / p.ConfiguredMB;
        Assert.True(Percent(Measured.Last) > Percent(Measured.One), $"1 VM {Percent(Measured.One)}%, 10 VMs {Percent(Measured.Last)}%");
        FullScaleRun.Reports(Result.Value, ClaimId.SharingFractionGrowsWithVms, holds: true, Percent(Measured.Last));
        Assert.Equal(60, Result.Value.Claim(ClaimId.SharingFractionGrowsWithVms).Paper); // "nearly 60%" [recalled]
    }

    [Fact]
    public void One_vm_alone_reclaims_mostly_zero_pages()
    {
        var one = Measured.One.On;
        Assert.True(one.SavedMB > 0);
        Assert.True(one.ZeroSavedMB > one.SavedMB / 2, $"{one.ZeroSavedMB} of {one.SavedMB} MB zero");
        FullScaleRun.Reports(Result.Value, ClaimId.SharingOneVmMostlyZeroPages, holds: true, 100 * one.ZeroSavedMB / one.SavedMB);
        Assert.Null(Result.Value.Claim(ClaimId.SharingOneVmMostlyZeroPages).Paper); // "mostly": no number
    }

    [Fact]
    public void Sharing_changes_throughput_by_at_most_5_percent_at_every_count_compared()
    {
        Assert.Equal([1, 4, 7, 10], Measured.Compared.Select(p => p.Vms));
        Assert.All(Measured.Compared, p => Assert.InRange(p.ThroughputChangePercent, -5, 5));
        FullScaleRun.Reports(Result.Value, ClaimId.SharingCostsNoThroughput, holds: true, Measured.Compared.Max(p => Math.Abs(p.ThroughputChangePercent)));
    }
}
