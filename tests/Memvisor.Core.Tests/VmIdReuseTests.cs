/*
 * VM ids are reused after a power-off: a VM that gets an earlier VM's id inherits none of its state.
 * I/O remapping state hangs off the VM's own record (it dies with the VM); the balloon channel, the
 * sampler's state and the share scanner's credit are tagged with the VM's incarnation
 * (MemoryManager.IncarnationOf, never reused) and checked in one place (MemoryManager.IsCurrent).
 * Each test powers the old VM off without the per-component clean-up (Detach, Untrack) that the host
 * policy also does, so the check alone must keep the new VM clean.
 */
using Memvisor.Core.Balloon;
using Memvisor.Core.IoRemap;
using Memvisor.Core.Memory;
using Memvisor.Core.Sampling;
using Memvisor.Core.Sharing;
using Memvisor.Core.Util;
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

    [Fact]
    public void A_vm_given_a_powered_off_vms_id_gets_none_of_its_balloon_channel()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var balloons = new BalloonHost(host.Manager, new ManualClock());
        var old = host.PowerOn("old", 8);
        var oldChannel = balloons.Attach(old.Id);
        host.Manager.PowerOff(old.Id);

        var reused = host.PowerOn("new", 8);

        Assert.Equal(old.Id, reused.Id);
        Assert.Throws<ArgumentException>(() => balloons.ChannelOf(reused.Id));
        Assert.False(oldChannel.IsOpen);
        var channel = balloons.Attach(reused.Id);
        Assert.NotSame(oldChannel, channel);
        Assert.Same(channel, balloons.ChannelOf(reused.Id));
    }

    [Fact]
    public void A_vm_given_a_powered_off_vms_id_gets_none_of_its_sampling_state_and_keeps_its_own_traps()
    {
        using var host = new TestHost(machinePages: 64, swapPages: 64);
        var sampler = new WorkingSetSampler(host.Manager, new SamplingOptions { PeriodSeconds = 1, SamplePages = 4, InitialActiveFraction = 0.25 }, seed: 3);
        var old = host.PowerOn("old", 8);
        sampler.Track(old.Id);
        for (var p = 0u; p < 8; p++)
        {
            old.Write(new Ppn(p), 0, [1]);
        }

        sampler.Advance(old.Id, TimeSpan.FromSeconds(1)); // all touched: the old VM's estimate rises
        Assert.NotEqual(0.25, sampler.Estimate(old.Id));
        host.Manager.PowerOff(old.Id);

        var reused = host.PowerOn("new", 8);

        Assert.Equal(old.Id, reused.Id);
        Assert.False(sampler.IsTracked(reused.Id));
        sampler.Track(reused.Id); // not "sampled already"
        Assert.Equal(0.25, sampler.Estimate(reused.Id));
        var armed = Enumerable.Range(0, 8).Count(p => host.Manager.IsSampleTrapArmed(reused.Id, new Ppn((uint)p)));
        Assert.True(armed > 0);
    }
}
