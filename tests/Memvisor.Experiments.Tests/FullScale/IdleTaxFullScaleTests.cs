namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Figure 7 at full scale: 512 MB host, an idle Windows VM and a file server of 256 MB each; tau 0 then 0.75.</summary>
public sealed class IdleTaxFullScaleTests
{
    private static readonly Lazy<ExperimentResult<IdleTaxMeasurements>> Result = FullScaleRun.Of(new IdleTaxExperiment());

    private static IdleTaxMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void With_no_tax_both_vms_hold_the_same_memory_within_5_percent_of_a_vm()
    {
        var gap = Math.Abs(Measured.Before.IdleGrantedMB - Measured.Before.BusyGrantedMB);
        Assert.InRange(gap, 0, 0.05 * 256);
        FullScaleRun.Reports(Result.Value, ClaimId.IdleTaxEqualWithoutTax, holds: true, gap);
    }

    [Fact]
    public void Raising_tau_moves_more_than_1_percent_of_machine_memory_from_the_idle_vm_to_the_file_server()
    {
        var (before, after) = (Measured.Before, Measured.After);
        var moved = Math.Min(before.IdleGrantedMB - after.IdleGrantedMB, after.BusyGrantedMB - before.BusyGrantedMB);
        Assert.True(moved > 0.01 * 512, $"VM1 {before.IdleGrantedMB} -> {after.IdleGrantedMB} MB, VM2 {before.BusyGrantedMB} -> {after.BusyGrantedMB} MB");
        Assert.True(before.IdleActiveMB < before.BusyActiveMB);
        FullScaleRun.Reports(Result.Value, ClaimId.IdleTaxMovesIdleMemory, holds: true, moved);
    }

    [Fact]
    public void Raising_tau_raises_the_file_servers_throughput_by_more_than_two_standard_errors()
    {
        Assert.True(Measured.GainPercent > 2 * Measured.GainStandardErrorPercent, $"{Measured.GainPercent}% (standard error {Measured.GainStandardErrorPercent}%)");
        FullScaleRun.Reports(Result.Value, ClaimId.IdleTaxRaisesThroughput, holds: true, Measured.GainPercent);
    }

    [Fact]
    public void The_gain_is_judged_against_the_papers_more_than_30_percent()
    {
        // Does not hold at full scale (17%, docs/experiments.md): the verdict follows the figure.
        FullScaleRun.Reports(Result.Value, ClaimId.IdleTaxGainAsInPaper, holds: Measured.GainPercent > 30, Measured.GainPercent);
        Assert.Equal(30, Result.Value.Claim(ClaimId.IdleTaxGainAsInPaper).Paper);
    }
}
