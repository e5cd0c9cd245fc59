using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Testing;

namespace Memvisor.Core.Tests;

public class ShareScannerTests
{
    [Theory]
    [InlineData(2, 1000)] // per-VM cap: 2 VMs x 50 pages/s x 10 s
    [InlineData(6, 2000)] // host cap: 200 pages/s x 10 s
    public void Scanning_respects_the_per_vm_and_host_rates(int vmCount, int expectedPages)
    {
        using var host = new TestHost(machinePages: 2048, swapPages: 0);
        for (var v = 0; v < vmCount; v++)
        {
            var guest = host.PowerOn($"vm{v}", 256, minPages: 256);
            for (var p = 0u; p < 256; p++)
            {
                guest.Write(new Ppn(p), 0, TestHost.Pattern((v * 1000) + (int)p));
            }
        }

        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 50, HostPagesPerSecond = 200 });
        var considered = 0;
        for (var tick = 0; tick < 100; tick++)
        {
            considered += scanner.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.InRange(considered, expectedPages - vmCount, expectedPages);
        Assert.Equal(considered, host.Manager.Counters.PagesScanned);
    }

    [Fact]
    public void A_long_pause_does_not_turn_into_a_burst()
    {
        using var host = new TestHost(machinePages: 512, swapPages: 0);
        var guest = host.PowerOn("vm", 256, minPages: 256);
        guest.Write(new Ppn(0), 0, [1]);
        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 50, HostPagesPerSecond = 200 });
        Assert.Equal(50, scanner.Advance(TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Scanning_finds_identical_pages_of_many_vms_at_random()
    {
        using var host = new TestHost(machinePages: 1024, swapPages: 0);
        var guests = Enumerable.Range(0, 4).Select(v => host.PowerOn($"vm{v}", 64, minPages: 64)).ToArray();
        foreach (var g in guests)
        {
            for (var p = 0u; p < 64; p++)
            {
                g.Write(new Ppn(p), 0, TestHost.Pattern((int)p)); // the same "image" in every VM
            }
        }

        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 50, HostPagesPerSecond = 200 });
        for (var s = 0; s < 60; s++)
        {
            scanner.Advance(TimeSpan.FromSeconds(1));
        }

        var stats = host.Manager.GetHostStats();
        Assert.Equal(64, stats.SharedFrames);
        Assert.Equal(3 * 64, stats.SavedPages);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Bad_rates_are_refused_with_the_field_named()
    {
        using var host = new TestHost(machinePages: 16, swapPages: 0);
        var e = Assert.Throws<ArgumentException>(() => new ShareScanner(host.Manager, new ShareScanOptions { HostPagesPerSecond = 0 }));
        Assert.Contains("per host", e.Message, StringComparison.Ordinal);
    }
}
