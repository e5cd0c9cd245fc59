namespace Memvisor.Experiments.Tests.FullScale;

/// <summary>Figure 5 at full scale: hosts A (10 Windows VMs), B (9 Linux), C (5 Linux of different images).</summary>
public sealed class SharingMixedFullScaleTests
{
    private static readonly Lazy<ExperimentResult<SharingMixedMeasurements>> Result = new(() =>
        new SharingMixedExperiment().Run(new ExperimentContext(ExperimentScale.Full, CancellationToken: TestContext.Current.CancellationToken)));

    private static SharingMixedMeasurements Measured => Result.Value.Measurements;

    [Fact]
    public void The_windows_and_same_image_hosts_reclaim_more_than_1_percent_and_the_every_host_verdict_follows_the_figures()
    {
        // Host C (five Linux VMs of different images) reclaimed 7.9% before Linux guests mapped the kernel's one
        // zero page on reads of unwritten memory (issue 13 item 5): that was zero pages the guests never wrote.
        // Now its VMs share almost nothing (different images, private data), so "every host reclaims" does not
        // hold at full scale; A and B still do, and the verdict follows the figures.
        Assert.Equal([2048, 1846, 1658], Measured.Hosts.Select(h => h.ConfiguredMB));
        Assert.True(Measured.A.ReclaimedPercent > 1, $"host A: {Measured.A.ReclaimedPercent}%");
        Assert.True(Measured.B.ReclaimedPercent > 1, $"host B: {Measured.B.ReclaimedPercent}%");
        FullScaleRun.Reports(Result.Value, ClaimId.MixedEveryHostReclaims, holds: Measured.Hosts.All(h => h.ReclaimedPercent > 1), Measured.Hosts.Min(h => h.ReclaimedPercent));
    }

    [Fact]
    public void The_hosts_order_by_reclaimed_fraction_is_reported_as_measured()
    {
        // The paper's order is A > B > C (32.9%, 18.7%, 7.2%). Ours: A, the Windows host whose guests zero their free
        // memory, reclaims the most; whether C (few VMs of different images) reclaims the least is the claim, and
        // its verdict follows the figures (at full scale it does not hold: C's unwritten anonymous memory is zero).
        var (a, b, c) = (Measured.A.ReclaimedPercent, Measured.B.ReclaimedPercent, Measured.C.ReclaimedPercent);
        Assert.True(a > b && a > c, $"A {a}%, B {b}%, C {c}%");
        FullScaleRun.Reports(Result.Value, ClaimId.MixedFewDifferentImagesReclaimLeast, holds: c < a && c < b, c);
        Assert.Equal(100.0 * 120 / 1658, Result.Value.Claim(ClaimId.MixedFewDifferentImagesReclaimLeast).Paper!.Value, 9);
    }

    [Fact]
    public void Zero_pages_are_shared_on_both_linux_hosts()
    {
        Assert.True(Measured.B.State.ZeroMB > 0 && Measured.C.State.ZeroMB > 0, $"B {Measured.B.State.ZeroMB} MB, C {Measured.C.State.ZeroMB} MB");
        FullScaleRun.Reports(Result.Value, ClaimId.MixedLinuxHostsShareZeroPages, holds: true, Math.Min(Measured.B.State.ZeroMB, Measured.C.State.ZeroMB));
    }
}
