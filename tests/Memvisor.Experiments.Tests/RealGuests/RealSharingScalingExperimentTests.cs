using Memvisor.Experiments.RealGuests;
using Memvisor.Linux.Ksm;
using Memvisor.Testing;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>Figure 4 on real guests at reduced size: 1 and 2 identical 128 MiB guests, KSM under the policy.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealSharingScalingExperimentTests
{
    [Fact]
    public void Sharing_grows_with_identical_guests_zero_pages_are_counted_apart_and_every_KSM_knob_is_restored()
    {
        if (KsmSysfs.WhyNotWritable() is { } why)
        {
            Assert.Skip($"KSM cannot be driven here: {why}");
        }

        // The knobs as they are when no other test process drives KSM: read once this process holds the
        // host's real-guest lock (CI read run 1 and pages_to_scan 1000 here while the Qemu project's KSM test
        // ran, then compared the restored defaults with them).
        RealGuestHostLock.Acquire();
        var ksm = new KsmSysfs();
        string[] knobs = [KsmKnob.Run, KsmKnob.PagesToScan, KsmKnob.SleepMilliseconds, KsmKnob.UseZeroPages];
        var before = knobs.ToDictionary(k => k, ksm.Read);
        var result = RealGuestRuns.Run<RealSharingScalingMeasurements>("sharing-scaling");
        var measured = result.Measurements;

        // Two guests with the same image and the same 48 MiB of data save more than one alone (claims
        // SharingGrowsWithVms and SharingFractionGrowsWithVms): at least most of the second copy of the data.
        Assert.True(result.Claim(ClaimId.SharingGrowsWithVms).Holds, result.Claim(ClaimId.SharingGrowsWithVms).Evidence);
        Assert.True(result.Claim(ClaimId.SharingFractionGrowsWithVms).Holds, result.Claim(ClaimId.SharingFractionGrowsWithVms).Evidence);
        Assert.True(measured.Last.ReclaimedMiB - measured.One.ReclaimedMiB > 0.75 * measured.Setup.DataMiB, $"1: {measured.One.ReclaimedMiB:0.0} MiB, 2: {measured.Last.ReclaimedMiB:0.0} MiB");

        // Zero pages are counted apart, and are part of what is reclaimed.
        Assert.All(measured.Points, p => Assert.InRange(p.ZeroMiB, 0, p.ReclaimedMiB));
        Assert.All(knobs, k => Assert.Equal(before[k], ksm.Read(k)));
        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
