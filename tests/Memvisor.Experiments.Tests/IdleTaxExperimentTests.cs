namespace Memvisor.Experiments.Tests;

/// <summary>Figure 7 at reduced size: raising tau moves the idle VM's memory to the file server and raises its throughput.</summary>
public sealed class IdleTaxExperimentTests
{
    private static readonly Lazy<ExperimentResult<IdleTaxMeasurements>> Result = new(() => new IdleTaxExperiment().Run(new ExperimentContext(ExperimentScale.Reduced)));

    [Fact]
    public void With_no_tax_both_vms_get_the_same_memory()
    {
        var before = Result.Value.Measurements.Before;
        Assert.InRange(Math.Abs(before.IdleGrantedMB - before.BusyGrantedMB), 0, 0.05 * 64);
        var equal = Result.Value.Claim(ClaimId.IdleTaxEqualWithoutTax);
        Assert.True(equal.Holds);
        Assert.Equal(Math.Abs(before.IdleGrantedMB - before.BusyGrantedMB), equal.Measured);
    }

    [Fact]
    public void Raising_tau_moves_memory_from_the_idle_vm_to_the_file_server_and_raises_its_throughput()
    {
        var (before, after) = (Result.Value.Measurements.Before, Result.Value.Measurements.After);

        // More than 1% of the 128 MB machine (1.28 MB) moves each way.
        Assert.Equal(1.28, Result.Value.Measurements.MoveThresholdMB, 9);
        Assert.True(before.IdleGrantedMB - after.IdleGrantedMB > 1.28, $"VM1 {before.IdleGrantedMB} -> {after.IdleGrantedMB} MB");
        Assert.True(after.BusyGrantedMB - before.BusyGrantedMB > 1.28, $"VM2 {before.BusyGrantedMB} -> {after.BusyGrantedMB} MB");
        Assert.True(before.IdleActiveMB < before.BusyActiveMB, "the idle VM looks less active than the file server");
        Assert.True(after.BusyThroughput > before.BusyThroughput, $"VM2 throughput {before.BusyThroughput} -> {after.BusyThroughput} ops/s");
        Assert.True(Result.Value.Claim(ClaimId.IdleTaxMovesIdleMemory).Holds);
        Assert.True(Result.Value.Claim(ClaimId.IdleTaxRaisesThroughput).Holds);
    }

    [Fact]
    public void The_report_names_the_paper_number_ours_and_the_ratio()
    {
        var result = Result.Value;
        var gain = result.Measurements.GainPercent;
        var claim = result.Claim(ClaimId.IdleTaxGainAsInPaper);
        Assert.Equal(30, claim.Paper);
        Assert.Equal(gain, claim.Measured);
        Assert.Equal(gain > 30, claim.Holds);
        var md = ExperimentReport.Markdown(result);
        Assert.Contains($"| VM2 throughput gain after raising tau to 0.75 | 30 % | {ExperimentReport.Number(gain)} % | {ExperimentReport.Number(gain / 30, 3)} |", md, StringComparison.Ordinal);
    }
}
