using Memvisor.Experiments.RealGuests;
using Memvisor.Qemu.GuestRam;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>§3.1 on real guests at reduced size: a 256 MiB guest touching 320 MiB, squeezed to 192 MiB.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealDoublePagingExperimentTests
{
    [Fact]
    public void Ballooning_squeezes_through_guest_swap_and_host_paging_runs_only_where_host_swap_exists()
    {
        var result = RealGuestRuns.Run<RealDoublePagingMeasurements>("double-paging");
        var measured = result.Measurements;
        var ballooning = measured.Ballooning;

        // Ballooned, the guest pages out its own pages and keeps to its size.
        Assert.True(ballooning.GuestSwapOutMiB > 0, "the ballooned guest swapped nothing out");
        Assert.InRange(ballooning.ResidentMiB, 0, measured.Setup.SqueezedMiB + 16);
        if (GuestPager.WhyUnavailable() is { } why)
        {
            // No host swap: the host-paging arm did not run, the report says why, and no comparison is judged.
            Assert.Null(measured.HostPaging);
            Assert.Contains(why, measured.HostPagingWhyNot, StringComparison.Ordinal);
            Assert.Empty(result.Claims);
            Assert.Contains("could not run", result.Setup, StringComparison.Ordinal);
        }
        else
        {
            var host = Assert.IsType<RealDoublePagingArm>(measured.HostPaging);
            Assert.True(host.HostSwapOutMiB > ballooning.HostSwapOutMiB, "host paging pages the guest out through host swap");
            Assert.True(result.Claim(ClaimId.DoublePagingHostIoAvoided).Holds, result.Claim(ClaimId.DoublePagingHostIoAvoided).Evidence);
        }

        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
