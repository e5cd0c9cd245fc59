namespace Memvisor.Experiments.Tests;

/// <summary>Salting at reduced size: a salt per VM gives up sharing between VMs; zero pages across VMs add one page per VM back.</summary>
public sealed class SaltingExperimentTests
{
    private static readonly Lazy<ExperimentResult> Result = new(() =>
        new SaltingExperiment().Run(new ExperimentContext(ExperimentScale.Reduced, CancellationToken: TestContext.Current.CancellationToken)));

    [Fact]
    public void A_salt_per_vm_saves_less_than_one_salt_and_zero_pages_across_vms_save_one_page_per_vm_more()
    {
        var result = Result.Value;
        var one = SharingReportAssert.Cell(result, "modes", "one salt", "reclaimed (MB)");
        var perVm = SharingReportAssert.Cell(result, "modes", "salt per VM", "reclaimed (MB)");
        var zeroOnly = SharingReportAssert.Cell(result, "modes", "zero pages across VMs", "reclaimed (MB)");
        var vms = SaltingExperiment.Vms(SaltingExperiment.ReducedScale).Count;

        Assert.True(perVm < one, $"salt per VM {perVm} MB, one salt {one} MB");
        Assert.True(zeroOnly < one, $"zero-only {zeroOnly} MB, one salt {one} MB");

        // A salt per VM: each VM's zero pages map its own zero frame (6 frames). Zero pages across VMs:
        // one frame for all, so the same zero pages free 6 - 1 = 5 machine pages more. Nothing else changes.
        var perVmPages = SharingReportAssert.Cell(result, "modes", "salt per VM", "reclaimed (pages)");
        var zeroOnlyPages = SharingReportAssert.Cell(result, "modes", "zero pages across VMs", "reclaimed (pages)");
        Assert.InRange(zeroOnlyPages - perVmPages, 0.5, vms);
        Assert.True(result.Claims.Single(c => c.Claim.StartsWith("sharing zero pages across VMs", StringComparison.Ordinal)).Holds);
    }

    [Fact]
    public void Report_states_the_reference_ours_and_the_ratio()
    {
        var result = Result.Value;
        SharingReportAssert.StatesPaperOursAndRatio(result);
        Assert.All(result.Comparisons, c => Assert.Contains("paper has no number", c.Note, StringComparison.Ordinal));
    }
}
