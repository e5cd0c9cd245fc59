using Memvisor.Experiments.RealGuests;

namespace Memvisor.Experiments.Tests.RealGuests;

/// <summary>§3.1 on real guests at reduced size: a 256 MiB guest on a RAM file touching 320 MiB, squeezed to 192 MiB.</summary>
[Collection(RealGuestExperimentGroup.Name)]
public sealed class RealDoublePagingExperimentTests
{
    [Fact]
    public void Ballooning_squeezes_through_guest_swap_while_host_paging_pages_the_RAM_file_out_and_reads_it_back()
    {
        var result = RealGuestRuns.Run<RealDoublePagingMeasurements>("double-paging");
        var measured = result.Measurements;
        var ballooning = measured.Ballooning;

        // Ballooned, the guest pages out its own pages; the host pages nothing. (On file-backed RAM the
        // balloon frees no host memory: QEMU punches 4 KiB holes into 2 MiB page-cache folios; see the report.)
        Assert.True(ballooning.GuestSwapOutMiB > 0, "the ballooned guest swapped nothing out");
        Assert.Equal(0, ballooning.HostPageOutMiB);

        // Host-paged through its RAM file (no host swap needed): the host pages out and reads back.
        var host = Assert.IsType<RealDoublePagingArm>(measured.HostPaging);
        Assert.Null(measured.HostPagingWhyNot);
        Assert.True(host.HostPageOutMiB > 0, "the pager reclaimed nothing");
        Assert.True(host.HostPageInMiB > ballooning.HostPageInMiB, $"QEMU read {host.HostPageInMiB:0.0} MiB back host-paged, {ballooning.HostPageInMiB:0.0} ballooned");
        Assert.True(result.Claim(ClaimId.DoublePagingHostIoAvoided).Holds, result.Claim(ClaimId.DoublePagingHostIoAvoided).Evidence);
        Assert.Contains("memory-backend-file", result.Setup, StringComparison.Ordinal);

        RealGuestRuns.AssertSideBySide(result, measured.Simulator);
    }
}
