using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>Figure 7 on real guests at reduced size: two 256 MiB guests on 560 MiB, tau 0 -> 0.75 at 35 s of 70 s.</summary>
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

        // Claim IdleTaxMovesIdleMemory's direction on what the guests hold, and the throughput's. The host
        // reclaims only while it is short of memory (below the soft threshold); at this size the shortage after
        // the rise is a few MiB either way (QEMU's measured memory, the guests' kernels), and CI twice saw the
        // host stay in high for the whole second half (VM1 159.2 -> 159.2 and 164.4 -> 164.4 MiB), where the
        // paper's policy rightly takes nothing. So: when the host was short after the rise, the idle guest gave
        // memory back; when it never was, the claim's verdict says so.
        var shortAfter = measured.Ticks.Any(t => t.Seconds > measured.Setup.ChangeSeconds && t.State != "high");
        var moves = result.Claim(ClaimId.IdleTaxMovesIdleMemory);
        if (shortAfter)
        {
            Assert.True(after.IdleConsumedMiB < before.IdleConsumedMiB, $"VM1 {before.IdleConsumedMiB:0} -> {after.IdleConsumedMiB:0} MiB although the host was short: {moves.Evidence}");
        }
        else
        {
            Assert.Contains("host high", moves.Evidence, StringComparison.Ordinal);
        }

        Assert.True(after.BusyConsumedMiB > before.BusyConsumedMiB, $"VM2 {before.BusyConsumedMiB:0} -> {after.BusyConsumedMiB:0} MiB");
        Assert.True(measured.GainPercent > 0, $"VM2 {before.BusyRate:0} -> {after.BusyRate:0} touches/s");
        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
