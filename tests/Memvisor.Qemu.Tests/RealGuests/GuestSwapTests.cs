/*
 * A balloon against memory the guest holds: a guest whose agent filled 160 MiB (touching 32 MiB of
 * it) is ballooned from 256 to 128 MiB. With a guest swap disk it gets there by paging its cold
 * pages out (seen in the guest's stat-swap-out), and the workload goes on.
 */
using System.Diagnostics;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class GuestSwapTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task With_guest_swap_a_balloon_reaches_a_target_below_what_the_guest_holds_and_the_guest_pages_out()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        await using var guest = await QemuGuest.StartAsync(
            new QemuGuestOptions
            {
                Name = "swapper",
                MemoryMiB = 256,
                Image = image,
                GuestSwapMiB = 256,
                Agent = new Dictionary<string, string> { ["mode"] = "toucher", ["alloc_mib"] = "160", ["phases"] = "32:0" },
            },
            ct);

        var running = await guest.WaitForReportAsync(r => r.State == AgentState.Running, Wait, ct);
        Assert.True(running is not null, $"the agent did not start: {guest.DiagnosticTail()}");
        await guest.Qmp.SetGuestStatsPollingIntervalAsync(1, cancellationToken: ct);

        var clock = Stopwatch.StartNew();
        await guest.Qmp.SetBalloonTargetAsync(128 * MiB, ct);
        long actual;
        do
        {
            await Task.Delay(100, ct);
            actual = await guest.Qmp.QueryBalloonActualBytesAsync(ct);
        }
        while (actual != 128 * MiB && clock.Elapsed < Wait);

        output.WriteLine($"256 -> 128 MiB with 160 MiB filled: reached {actual / MiB} MiB in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(128 * MiB, actual);
        var stats = await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (stats.SwapOutBytes is null or 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(500, ct);
            stats = await guest.Qmp.GetGuestStatsAsync(cancellationToken: ct);
        }

        output.WriteLine($"guest swapped out {stats.SwapOutBytes / (double)MiB:0.0} MiB, major faults {stats.MajorFaults}");
        Assert.True(stats.SwapOutBytes > 16 * MiB, $"the guest paged out only {stats.SwapOutBytes} bytes");
        var after = await guest.WaitForReportAsync(r => r.Seconds > running.Seconds + 2 && r.TouchedPages > 0, Wait, ct);
        Assert.True(after is not null, $"the workload stopped: {guest.DiagnosticTail()}");
        Assert.False(guest.HasExited);
    }
}
