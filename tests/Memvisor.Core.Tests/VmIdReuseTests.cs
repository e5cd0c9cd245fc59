/*
 * VM ids are reused after a power-off: a VM that gets an earlier VM's id inherits none of its state.
 * I/O remapping state hangs off the VM's own record (it dies with the VM); the share scanner's credit
 * is tagged with the VM's incarnation (MemoryManager.IncarnationOf), which is never reused.
 */
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Sharing;
using Memvisor.Testing;

namespace Memvisor.Core.Tests;

public class VmIdReuseTests
{
    [Fact]
    public void A_vm_given_a_powered_off_vms_id_sees_none_of_its_io_state()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var old = host.PowerOn("old", 8);
        old.Write(new Ppn(5), 0, [1]);
        host.Manager.DmaTransfer(old.Id, new Ppn(5), IoDirection.Transmit, 0, new byte[8]);
        Assert.Equal(1, host.Manager.IoCountOf(old.Id, new Ppn(5)));
        host.Manager.PowerOff(old.Id);

        var reused = host.PowerOn("new", 8);

        Assert.Equal(old.Id, reused.Id);
        Assert.NotEqual(1, host.Manager.IncarnationOf(reused.Id));
        Assert.Equal(0, host.Manager.IoCountOf(reused.Id, new Ppn(5)));
        Assert.Equal(0, host.Manager.GetIoRemapStats(reused.Id).Transfers);
        Assert.Equal(0, host.Manager.GetIoRemapHostStats().CounterBytes);
    }

    [Fact]
    public void A_vm_given_a_powered_off_vms_id_starts_with_no_scan_credit()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var scanner = new ShareScanner(host.Manager, new ShareScanOptions { PerVmPagesPerSecond = 2, HostPagesPerSecond = 100 });
        var old = host.PowerOn("old", 8);
        // 0.75 s earns 1.5 pages of credit: one page is scanned, half a page of credit is left.
        Assert.Equal(1, scanner.Advance(TimeSpan.FromSeconds(0.75)));
        host.Manager.PowerOff(old.Id);

        var reused = host.PowerOn("new", 8);

        Assert.Equal(old.Id, reused.Id);
        // 0.25 s earns half a page: with the old VM's half it would be one page.
        Assert.Equal(0, scanner.Advance(TimeSpan.FromSeconds(0.25)));
        Assert.Equal(1, scanner.Advance(TimeSpan.FromSeconds(0.25)));
    }
}
