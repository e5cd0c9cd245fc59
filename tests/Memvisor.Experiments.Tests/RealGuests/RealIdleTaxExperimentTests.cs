using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>Figure 7 on real guests at reduced size: two 256 MiB guests on 420 MiB, tau 0 -> 0.75 at 35 s of 70 s.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealIdleTaxExperimentTests
{
    [Fact]
    public void Raising_the_tax_moves_memory_from_the_idle_guest_to_the_active_one_and_raises_its_throughput()
    {
        var result = RealGuestRuns.Run<RealIdleTaxMeasurements>("idle-tax");
        var measured = result.Measurements;
        var (before, after) = (measured.Before, measured.After);

        // Targets follow the tax: the idle guest's falls, the active guest's rises.
        Assert.True(after.IdleTargetMiB < before.IdleTargetMiB - 8, $"VM1 target {before.IdleTargetMiB:0} -> {after.IdleTargetMiB:0} MiB");
        Assert.True(after.BusyTargetMiB > before.BusyTargetMiB + 8, $"VM2 target {before.BusyTargetMiB:0} -> {after.BusyTargetMiB:0} MiB");

        // Claim IdleTaxMovesIdleMemory's direction on what the guests hold, and the throughput's.
        Assert.True(after.IdleConsumedMiB < before.IdleConsumedMiB, $"VM1 {before.IdleConsumedMiB:0} -> {after.IdleConsumedMiB:0} MiB");
        Assert.True(after.BusyConsumedMiB > before.BusyConsumedMiB, $"VM2 {before.BusyConsumedMiB:0} -> {after.BusyConsumedMiB:0} MiB");
        Assert.True(measured.GainPercent > 0, $"VM2 {before.BusyRate:0} -> {after.BusyRate:0} touches/s");
        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
