/*
 * Guests that go wrong or opt out, without waiting for a boot: a QEMU that dies under a running
 * guest is seen as gone (QMP fails as closed, no more reports, stopping it is harmless), and a guest
 * started with mem-merge off has guest RAM KSM may not merge.
 */
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Monitoring;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class GuestFaultTests
{
    [Fact]
    public async Task A_guest_whose_QEMU_dies_is_seen_as_gone_and_its_QMP_commands_fail_as_closed()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var image = await RealGuestRequirements.ImageAsync();
        await using var guest = await QemuGuest.StartAsync(new QemuGuestOptions { Name = "doomed", MemoryMiB = 128, Image = image }, ct);

        // Killing the QEMU this test started, by its PID, stands in for a crash.
        using (var qemu = System.Diagnostics.Process.GetProcessById(guest.Pid))
        {
            qemu.Kill();
            await qemu.WaitForExitAsync(ct);
        }

        var report = await guest.WaitForReportAsync(_ => true, TimeSpan.FromSeconds(30), ct);
        var closed = await Assert.ThrowsAsync<QmpConnectionClosedException>(() => guest.Qmp.QueryStatusAsync(ct));

        Assert.Null(report);
        Assert.True(guest.HasExited);
        Assert.Equal("query-status", closed.Command);
        Assert.Null(guest.RamMapping!.ReadUsage());
        var sample = await GuestMonitor.SampleAsync(guest, cancellationToken: ct);
        Assert.False(sample.Alive);
        Assert.Null(sample.BalloonActualBytes);
        Assert.Null(sample.Ram);
        Assert.Contains(sample.Faults, f => f.Contains("connection closed", StringComparison.Ordinal));
        await guest.DisposeAsync();
        Assert.DoesNotContain(guest.Pid, GuestProcesses.Pids);
    }

    [Fact]
    public async Task Guest_RAM_is_mergeable_only_when_mem_merge_is_on()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var image = await RealGuestRequirements.ImageAsync();
        await using var merged = await QemuGuest.StartAsync(new QemuGuestOptions { Name = "merge-on", MemoryMiB = 128, Image = image }, ct);
        await using var optedOut = await QemuGuest.StartAsync(new QemuGuestOptions { Name = "merge-off", MemoryMiB = 128, Image = image, MemMerge = false }, ct);

        Assert.True(merged.RamMapping!.ReadUsage()!.Mergeable);
        Assert.False(optedOut.RamMapping!.ReadUsage()!.Mergeable);
        if (GuestKsm.Read(optedOut.Pid) is { Mergeable: { } mergeable })
        {
            Assert.False(mergeable);
        }
    }
}
