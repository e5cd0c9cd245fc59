namespace Memvisor.Experiments.Tests;

/// <summary>Salting at reduced size: a salt per VM gives up sharing between VMs; zero pages across VMs add one page per VM back.</summary>
public sealed class SaltingExperimentTests
{
    private static readonly Lazy<ExperimentResult<SaltingMeasurements>> Result = new(() =>
        new SaltingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    private static readonly double OnePageMB = Core.Memory.PageGeometry.MegabytesFromPages(1);

    [Fact]
    public void A_salt_per_vm_saves_less_than_one_salt_and_zero_pages_across_vms_save_one_page_per_vm_more()
    {
        var result = Result.Value;
        var measured = result.Measurements;
        var one = measured.One.State.SavedMB;
        var perVm = measured.PerVm.State.SavedMB;
        var zeroOnly = measured.ZeroOnly.State.SavedMB;
        var vms = measured.Vms.Count;

        Assert.True(perVm < one, $"salt per VM {perVm} MB, one salt {one} MB");
        Assert.True(zeroOnly < one, $"zero-only {zeroOnly} MB, one salt {one} MB");

        // A salt per VM: each VM's zero pages map its own zero frame (6 frames). Zero pages across VMs:
        // one frame for all, so the same zero pages free 6 - 1 = 5 machine pages more. Nothing else changes.
        Assert.Equal(6, vms);
        var morePages = (zeroOnly - perVm) / OnePageMB;
        Assert.InRange(morePages, 0.5, vms);
        var claim = result.Claim(ClaimId.SaltZeroPagesAcrossVmsAddOnePagePerVm);
        Assert.True(claim.Holds);
        Assert.Equal(morePages, claim.Measured, 9);
        Assert.Equal(perVm / one, result.Claim(ClaimId.SaltPerVmSavesLess).Measured, 9);
    }

    [Fact]
    public void Report_states_the_reference_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        Assert.All(result.Comparisons, c => Assert.Contains("paper has no number", c.Note, StringComparison.Ordinal));
        Assert.All(result.Claims, c => Assert.Null(c.Paper));
    }
}
