using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Testing;

namespace Memvisor.Core.Tests.IoRemap;

public class ZoneAndOptionsTests
{
    [Fact]
    public void The_default_dma_boundary_is_4_gib_of_4_kib_pages()
    {
        // 4 GiB / 4 KiB = 4,294,967,296 / 4,096 = 1,048,576 pages.
        var options = new IoRemapOptions();
        Assert.Equal(4L * 1024 * 1024 * 1024 / PageGeometry.PageSizeBytes, options.DmaBoundaryPages);
        Assert.Equal(ZonePreference.HighFirst, options.GuestPlacement);
        Assert.True(options.RemapHotPages);
        options.Validate();
    }

    [Theory]
    [InlineData(0, 16, 0, 0, "DmaBoundaryPages: 0")]
    [InlineData(64, 0, 0, 0, "RemapThresholdCopies: 0")]
    [InlineData(64, 32768, 0, 0, "RemapThresholdCopies: 32768")]
    [InlineData(64, 16, 64, 0, "LowReservePages: 64")]
    [InlineData(64, 16, -1, 0, "LowReservePages: -1")]
    [InlineData(64, 16, 8, -1, "DemotionBatchPages: -1")]
    public void Invalid_options_name_the_field_and_the_value(int boundary, int threshold, int reserve, int batch, string expected)
    {
        var options = new IoRemapOptions { DmaBoundaryPages = boundary, RemapThresholdCopies = threshold, LowReservePages = reserve, DemotionBatchPages = batch };
        var e = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);

        using var host = new TestHost(machinePages: 128, swapPages: 16);
        Assert.Throws<ArgumentException>(() => host.Manager.ConfigureIoRemap(options));
        Assert.Null(host.Manager.IoRemapSettings);
    }

    [Fact]
    public void An_undefined_placement_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(new IoRemapOptions { GuestPlacement = (ZonePreference)9 }.Validate);
        Assert.Contains("GuestPlacement", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void High_first_placement_fills_high_memory_before_taking_low_pages()
    {
        using var host = new TestHost(machinePages: 96, swapPages: 256);
        host.Manager.ConfigureIoRemap(new IoRemapOptions { DmaBoundaryPages = 64, LowReservePages = 4 });
        var vm = host.PowerOn("vm", 40);
        for (var p = 0u; p < 40; p++)
        {
            vm.Write(new Ppn(p), 0, [1]);
        }

        // 96 - 64 = 32 high pages take PPNs 0..31; PPNs 32..39 take 8 of the 64 low pages.
        var mpns = Enumerable.Range(0, 40).Select(p => host.Manager.PageInfoOf(vm.Id, new Ppn((uint)p)).Mpn.Value).ToArray();
        Assert.All(mpns[..32], m => Assert.InRange(m, 64u, 95u));
        Assert.All(mpns[32..], m => Assert.InRange(m, 0u, 63u));
        Assert.Equal(64 - 8, host.Manager.Pool.FreeLowPages);
        var stats = host.Manager.GetIoRemapHostStats();
        Assert.Equal((64, 32, 56, 0, 4), (stats.LowZonePages, stats.HighZonePages, stats.FreeLowPages, stats.FreeHighPages, stats.LowReservePages));

        // Freed pages go back to their zone's count.
        host.Manager.PowerOff(vm.Id);
        Assert.Equal(64, host.Manager.Pool.FreeLowPages);
        Assert.Equal(96, host.Manager.Pool.FreePages);
        host.Manager.CheckConsistency();
    }

    [Fact]
    public void Without_a_preference_pages_are_taken_from_the_bottom_of_memory()
    {
        using var host = new TestHost(machinePages: 96, swapPages: 256);
        host.Manager.ConfigureIoRemap(new IoRemapOptions { DmaBoundaryPages = 64, LowReservePages = 4, GuestPlacement = ZonePreference.Anywhere });
        var vm = host.PowerOn("vm", 8);
        for (var p = 0u; p < 8; p++)
        {
            vm.Write(new Ppn(p), 0, [1]);
        }

        Assert.All(Enumerable.Range(0, 8), p => Assert.True(host.Manager.PageInfoOf(vm.Id, new Ppn((uint)p)).Mpn.Value < 64));
        Assert.Equal(64 - 8, host.Manager.Pool.FreeLowPages);
    }

    [Fact]
    public void An_explicit_range_is_honoured_whatever_the_preference()
    {
        using var host = new TestHost(machinePages: 96, swapPages: 16);
        var pool = host.Manager.Pool;
        pool.SetZones(64, ZonePreference.HighFirst);
        Assert.True(pool.TryAllocate(default, new Ppn(0), MpnUse.Overhead, out var low, 0, 64));
        Assert.True(pool.IsLow(low));
        Assert.True(pool.TryAllocate(default, new Ppn(0), MpnUse.Overhead, out var any));
        Assert.False(pool.IsLow(any));
        Assert.Equal((63, 94), (pool.FreeLowPages, pool.FreePages));
        pool.Free(low);
        pool.Free(any);
        Assert.Equal((64, 96), (pool.FreeLowPages, pool.FreePages));
    }
}
