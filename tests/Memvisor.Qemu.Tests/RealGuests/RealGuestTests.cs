/*
 * One real Linux guest under TCG, end to end: image, boot, the agent's reports, the working set seen
 * from outside, ballooning over QMP, guest statistics, and a stop that leaves no QEMU behind.
 * Figures measured are written to the test output.
 */
using System.Diagnostics;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.GuestRam;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Monitoring;
using Memvisor.Qemu.Qmp;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class RealGuestTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan BootWait = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_guest_boots_reports_is_measured_balloons_down_64_MiB_and_stops_without_leaving_QEMU()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var options = new QemuGuestOptions
        {
            Name = "realguest1",
            MemoryMiB = 256,
            Image = image,
            Agent = new Dictionary<string, string> { ["mode"] = "toucher", ["alloc_mib"] = "64", ["phases"] = "32:0" },
        };

        var boot = Stopwatch.StartNew();
        var guest = await QemuGuest.StartAsync(options, ct);
        var pid = guest.Pid;
        try
        {
            var running = await guest.WaitForReportAsync(r => r.State == AgentState.Running, BootWait, ct);
            Assert.True(running is not null, $"no agent report within {BootWait.TotalSeconds} s: {guest.DiagnosticTail()}");
            output.WriteLine($"boot to the agent's first running report: {boot.Elapsed.TotalSeconds:0.0} s");
            var full = await guest.WaitForReportAsync(r => r.State == AgentState.Running && r.TouchedPages == r.SetPages, BootWait, ct);
            Assert.NotNull(full);
            Assert.Equal(32 * MiB / 4096, full.SetPages);

            Assert.True(ThpDisabledStart.IsThpDisabledFor(pid), "QEMU should run with THP disabled");
            Assert.NotNull(guest.RamMapping);
            Assert.Equal(256 * MiB, guest.RamMapping.SizeBytes);

            // Working set from outside: accessed bits cleared, Referenced counted each 1 s period, fed to
            // Core's estimator starting from 0% (so that what it reports is what was measured).
            var meter = new WorkingSetMeter(guest.RamMapping, new SamplingOptions { InitialActiveFraction = 0 });
            Assert.True(meter.StartPeriod());
            // Every period sees at least the agent's 32 MiB (less a little for pages counted in the next
            // period); the typical (median) period sees little more. A single period may see more: the guest
            // kernel and QEMU touch guest RAM on their own (CI once saw 142 MiB in one period).
            WorkingSetReading? reading = null;
            var referencedMiB = new List<double>();
            for (var period = 0; period < 6; period++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct);
                reading = meter.CompletePeriod();
                Assert.NotNull(reading);
                output.WriteLine($"period {period}: Referenced {reading.ReferencedPages * 4096 / (double)MiB:0.0} MiB, estimate {reading.EstimatePages * 4096 / MiB:0.0} MiB, cost {reading.Cost.TotalMilliseconds:0.0} ms");
                Assert.True(reading.ReferencedPages * 4096 >= 28 * MiB, $"period {period} saw only {reading.ReferencedPages * 4096 / (double)MiB:0.0} MiB referenced; the agent touches 32 MiB each second");
                referencedMiB.Add(reading.ReferencedPages * 4096 / (double)MiB);
            }

            var medianMiB = referencedMiB.Order().ElementAt(referencedMiB.Count / 2);
            Assert.InRange(medianMiB, 28, 40);

            var truthMiB = guest.LatestReport!.TouchedPages * 4096 / (double)MiB;
            var estimateMiB = reading!.EstimatePages * 4096 / MiB;
            output.WriteLine($"estimate after 6 periods {estimateMiB:0.0} MiB, agent's truth {truthMiB:0.0} MiB");
            Assert.InRange(estimateMiB, truthMiB - 8, truthMiB + 8);
            var usage = guest.RamMapping.ReadUsage();
            Assert.NotNull(usage);
            output.WriteLine($"guest RAM: RSS {usage.RssBytes / (double)MiB:0.0} MiB, THP {usage.AnonHugePagesBytes / MiB} MiB");
            Assert.True(usage.RssBytes >= 64 * MiB, "the agent's 64 MiB are resident");
            Assert.Equal(0, usage.AnonHugePagesBytes);

            // Ballooning: 100 MiB in and out (convergence measured), then 256 -> 192 MiB for the stats.
            await guest.Qmp.SetGuestStatsPollingIntervalAsync(1, cancellationToken: ct);
            foreach (var targetMiB in (long[])[156, 256, 192])
            {
                var clock = Stopwatch.StartNew();
                await guest.Qmp.SetBalloonTargetAsync(targetMiB * MiB, ct);
                var actual = await PollAsync(() => guest.Qmp.QueryBalloonActualBytesAsync(ct), a => a == targetMiB * MiB, ct);
                output.WriteLine($"balloon -> {targetMiB} MiB reached in {clock.Elapsed.TotalSeconds:0.00} s (query-balloon polled every 10 ms)");
                Assert.Equal(targetMiB * MiB, actual);
            }

            var stats = await PollAsync(() => guest.Qmp.GetGuestStatsAsync(cancellationToken: ct), s => s.LastUpdate is not null && s.TotalBytes > 0, ct);
            output.WriteLine($"guest stats: total {stats.TotalBytes / MiB} MiB, free {stats.FreeBytes / MiB} MiB, available {stats.AvailableBytes / MiB} MiB");
            Assert.InRange(stats.TotalBytes!.Value, 200 * MiB, 256 * MiB);
            Assert.True(stats.FreeBytes < stats.TotalBytes);

            var sample = await GuestMonitor.SampleAsync(guest, cancellationToken: ct);
            Assert.Empty(sample.Faults);
            Assert.True(sample.Alive);
            Assert.Equal(VmRunState.Running, sample.Status!.State);
            Assert.Equal(192 * MiB, sample.BalloonActualBytes);
            Assert.Equal(256 * MiB, sample.ConfiguredBytes);
            Assert.True(sample.Ram!.RssBytes >= 64 * MiB);
            Assert.NotNull(sample.Ksm);
            Assert.NotNull(sample.Agent);
            var after = await guest.WaitForReportAsync(r => r.Seconds > full.Seconds + 1, BootWait, ct);
            Assert.True(after is { TouchedPages: > 0 }, "the workload goes on after ballooning");
        }
        finally
        {
            await guest.DisposeAsync();
        }

        Assert.True(guest.HasExited);
        Assert.False(Directory.Exists($"/proc/{pid}"), $"QEMU {pid} is still there");
        Assert.DoesNotContain(pid, GuestProcesses.Pids);
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> read, Func<T, bool> done, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var value = await read();
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(10, ct);
        }
    }
}
