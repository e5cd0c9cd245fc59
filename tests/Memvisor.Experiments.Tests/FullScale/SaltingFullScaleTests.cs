namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Salting at full scale: six VMs of two images, one salt, a salt per VM, zero pages across VMs.</summary>
public sealed class SaltingFullScaleTests
{
    private static readonly Lazy<ExperimentResult<SaltingMeasurements>> Result = FullScaleRun.Of(new SaltingExperiment());

    private static SaltingMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void A_salt_per_vm_saves_less_than_one_salt()
    {
        var (one, perVm) = (Measured.One.State.SavedMB, Measured.PerVm.State.SavedMB);
        Assert.True(perVm < one, $"salt per VM {perVm} MB, one salt {one} MB");
        FullScaleRun.Reports(Result.Value, ClaimId.SaltPerVmSavesLess, holds: true, perVm / one);
    }

    [Fact]
    public void Zero_pages_across_vms_save_at_most_one_page_per_vm_more_than_a_salt_per_vm()
    {
        var pageMB = Core.Memory.PageGeometry.MegabytesFromPages(1);
        var morePages = (Measured.ZeroOnly.State.SavedMB - Measured.PerVm.State.SavedMB) / pageMB;
        Assert.InRange(morePages, 0.5, Measured.Vms.Count);
        FullScaleRun.Reports(Result.Value, ClaimId.SaltZeroPagesAcrossVmsAddOnePagePerVm, holds: true, morePages);
    }
}
