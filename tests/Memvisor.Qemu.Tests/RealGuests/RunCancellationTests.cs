/*
 * Every way out of a run stops its guests: cancelling a run (what Ctrl-C does in the CLI) after its
 * first tick ends it with OperationCanceledException, and no QEMU of it is left.
 */
using Memvisor.Core.Host;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class RunCancellationTests
{
    [Fact]
    public async Task A_cancelled_run_stops_every_guest_it_started()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var image = await RealGuestRequirements.ImageAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var pids = new List<int>();
        var options = new QemuRunOptions { BudgetPages = 512 * 256, SwapCapacityPages = 512 * 256, Duration = TimeSpan.FromMinutes(10) };
        QemuRunGuest guest = new(
            new QemuGuestOptions { Name = "cancelled", MemoryMiB = 128, Image = image },
            new VmConfig { Name = "cancelled", MaxPages = 128 * 256, MinPages = 64 * 256 },
            BalloonFloorMiB: 64);

        var run = QemuHostRun.RunAsync(options, [guest], new SynchronousProgress(_ =>
        {
            pids.AddRange(GuestProcesses.Pids);
            cancel.Cancel();
        }), cancel.Token);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.NotEmpty(pids);
        Assert.Empty(GuestProcesses.Pids);
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"QEMU {pid} is still running"));
    }

    private sealed class SynchronousProgress(Action<QemuRunRow> report) : IProgress<QemuRunRow>
    {
        public void Report(QemuRunRow value) => report(value);
    }
}
