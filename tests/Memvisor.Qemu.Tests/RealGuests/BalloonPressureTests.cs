/*
 * A balloon against memory the guest holds: a guest whose agent filled 160 MiB (touching 32 MiB of
 * it) is ballooned from 256 to 128 MiB. With a guest swap disk it gets there by paging its cold
 * pages out (seen in the guest's stat-swap-out), and the workload goes on. Without one the balloon
 * stops short, the actuator calls it stalled, and the workload is unharmed.
 */
using System.Diagnostics;
using Memvisor.Qemu.Actuation;
using Memvisor.Qemu.Launch;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class BalloonPressureTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task With_guest_swap_a_balloon_reaches_a_target_below_what_the_guest_holds_and_the_guest_pages_out()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        await using var guest = await StartFilledGuestAsync("swapper", guestSwapMiB: 256, ct);
        var running = await RunningAsync(guest, ct);
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

    [Fact]
    public async Task Without_guest_swap_the_balloon_stops_short_is_judged_stalled_and_the_workload_is_unharmed()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        await using var guest = await StartFilledGuestAsync("noswap", guestSwapMiB: 0, ct);
        var running = await RunningAsync(guest, ct);

        var balloon = new BalloonActuator(guest.Qmp, 256 * MiB, 64 * MiB, TimeSpan.FromSeconds(3));
        var sent = await balloon.SetTargetAsync(128 * MiB, ct);
        Assert.True(sent.Sent);
        var clock = Stopwatch.StartNew();
        var progress = BalloonProgress.Moving;
        long actual = 0;
        while (progress != BalloonProgress.Stalled && clock.Elapsed < Wait)
        {
            await Task.Delay(250, ct);
            actual = await guest.Qmp.QueryBalloonActualBytesAsync(ct);
            progress = balloon.Observe(actual);
            Assert.NotEqual(BalloonProgress.AtTarget, progress);
        }

        output.WriteLine($"no guest swap: 256 -> 128 MiB stopped at {actual / (double)MiB:0.0} MiB, judged {progress} after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(BalloonProgress.Stalled, progress);
        Assert.True(actual > 128 * MiB + MiB);
        var after = await guest.WaitForReportAsync(r => r.Seconds > running.Seconds + 2 && r.TouchedPages > 0, Wait, ct);
        Assert.True(after is not null, $"the workload stopped: {guest.DiagnosticTail()}");
        Assert.Equal(running.AllocPages, after.AllocPages);
        Assert.False(guest.HasExited);
    }

    /// <summary>A 256 MiB guest whose agent fills 160 MiB and keeps touching 32 MiB of it (with a guest swap disk when asked).</summary>
    private static async Task<QemuGuest> StartFilledGuestAsync(string name, int guestSwapMiB, CancellationToken ct) =>
        await QemuGuest.StartAsync(
            new QemuGuestOptions
            {
                Name = name,
                MemoryMiB = 256,
                Image = await RealGuestRequirements.ImageAsync(),
                GuestSwapMiB = guestSwapMiB,
                Agent = new Dictionary<string, string> { ["mode"] = "toucher", ["alloc_mib"] = "160", ["phases"] = "32:0" },
            },
            ct);

    /// <summary>The agent's first report once it runs its workload (the guest has filled its memory).</summary>
    private static async Task<AgentReport> RunningAsync(QemuGuest guest, CancellationToken ct)
    {
        var running = await guest.WaitForReportAsync(r => r.State == AgentState.Running, Wait, ct);
        Assert.True(running is not null, $"the agent did not start: {guest.DiagnosticTail()}");
        return running;
    }
}
