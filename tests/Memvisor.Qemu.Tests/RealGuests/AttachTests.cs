/*
 * `host attach` over a QEMU the test started itself, as a user would (its own command line, a QMP
 * socket, a balloon device; QEMU serves one QMP client at a time, so the test looks before and after
 * and Memvisor holds the socket in between): the policy finds the QEMU's PID from the socket and balloons the guest
 * into a budget it overflows; when the run ends the balloon goes back to where it was found and the
 * VM runs on (the test then stops it by its PID). A QEMU without a balloon device is refused in one
 * line before anything changes.
 */
using System.Diagnostics;
using Memvisor.Core.Allocation;
using Memvisor.Core.Host;
using Memvisor.Core.Sampling;
using Memvisor.Qemu.Launch;
using Memvisor.Qemu.Qmp;
using Memvisor.Qemu.Substrate;

namespace Memvisor.Qemu.Tests.RealGuests;

[Collection(RealGuestGroup.Name)]
public sealed class AttachTests
{
    [Fact]
    public async Task Attach_balloons_a_VM_it_did_not_start_and_gives_the_balloon_back_when_it_ends()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var output = TestContext.Current.TestOutputHelper!;
        var image = await RealGuestRequirements.ImageAsync();
        var folder = Directory.CreateTempSubdirectory("memvisor-attach-test-").FullName;
        var socket = Path.Combine(folder, "qmp.sock");
        using var qemu = StartUserQemu(image.KernelPath, image.InitrdPath, socket, balloon: true);
        try
        {
            // QEMU serves one QMP client at a time: the test looks before and after, Memvisor in between.
            long original;
            await using (var before = await ConnectWhenReadyAsync(socket, ct))
            {
                original = await before.QueryBalloonActualBytesAsync(ct);
            }

            await Task.Delay(TimeSpan.FromSeconds(8), ct);
            var options = new QemuRunOptions
            {
                BudgetPages = (ScenarioGuests.QemuOverheadMiB + 100) * 256,
                SwapCapacityPages = 1024 * 256,
                Tick = TimeSpan.FromMilliseconds(500),
                Duration = TimeSpan.FromSeconds(20),
                Policy = new HostPolicyOptions
                {
                    Allocation = new AllocationOptions { Tau = 0.75, BalancePeriodSeconds = 2 },
                    Sampling = new SamplingOptions { PeriodSeconds = 2, InitialActiveFraction = 0 },
                },
            };
            var rows = new List<QemuRunRow>();

            var result = await QemuAttach.RunAsync(options, [new QemuAttachTarget(socket, MinMiB: 64)], new Progress<QemuRunRow>(rows.Add), stop: ct, cancellationToken: ct);

            output.WriteLine(string.Join("\n", result.Run.Rows.Where((_, i) => i % 4 == 3).Select(r =>
                $"t={r.Time.TotalSeconds:0} {r.State} free {r.FreePages / 256} | " + string.Join(" | ", r.Vms.Select(v => $"{v.Name}: target {v.Policy.TargetPages / 256} balloon {v.Figures.BalloonPages / 256}/{v.Figures.BalloonTargetPages / 256} {v.Figures.BalloonProgress}")))));
            output.WriteLine("notes: " + string.Join("; ", result.Notes.Concat(result.Run.Faults)));
            var (name, pid, memoryMiB) = Assert.Single(result.Vms);
            Assert.Equal(qemu.Id, pid);
            Assert.Equal("user-guest", name);
            Assert.Equal(256, memoryMiB);
            var peak = result.Run.Rows.Max(r => r.Vms.Single().Figures.BalloonPages) / 256;
            Assert.True(peak >= 32, $"the balloon took only {peak} MiB of a guest over its budget");

            // What was managed, as `host attach --out` writes it: the VM with its min, and a sample a second
            // in which it is on and its balloon inflated (no agent: no true working set).
            var spec = Assert.Single(result.Scenario.Vms);
            Assert.Equal(("user-guest", 256.0, 64.0), (spec.Name, spec.MemoryMB, spec.MinMB));
            Assert.InRange(result.Record.Samples.Count, 18, 21);
            Assert.All(result.Record.Samples, s => Assert.True(s.Vms.Single().PoweredOn));
            Assert.InRange(result.Record.Samples.Max(s => s.Vms.Single().BalloonMB), 32, peak + 1);
            Assert.All(result.Record.Samples, s => Assert.True(double.IsNaN(s.Vms.Single().TrueWorkingSetMB)));
            Assert.Empty(result.Record.Stops);

            // Given back: the guest deflates to the size it had at attach, and QEMU runs on.
            await using var watcher = await ConnectWhenReadyAsync(socket, ct);
            var back = 0L;
            for (var i = 0; i < 40 && Math.Abs(back - original) > (1 << 20); i++)
            {
                await Task.Delay(250, ct);
                back = await watcher.QueryBalloonActualBytesAsync(ct);
            }

            Assert.InRange(back, original - (1 << 20), original + (1 << 20));
            Assert.False(qemu.HasExited);
            Assert.True((await watcher.QueryStatusAsync(ct)).Running);
        }
        finally
        {
            // The test's own QEMU, stopped by the PID it started.
            qemu.Kill();
            await qemu.WaitForExitAsync(CancellationToken.None);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_VM_without_a_balloon_device_is_refused_in_one_line_before_anything_changes()
    {
        RealGuestRequirements.SkipUnlessAvailable();
        var ct = TestContext.Current.CancellationToken;
        var image = await RealGuestRequirements.ImageAsync();
        var folder = Directory.CreateTempSubdirectory("memvisor-attach-test-").FullName;
        var socket = Path.Combine(folder, "qmp.sock");
        using var qemu = StartUserQemu(image.KernelPath, image.InitrdPath, socket, balloon: false);
        try
        {
            (await ConnectWhenReadyAsync(socket, ct)).Dispose();
            var options = new QemuRunOptions { BudgetPages = 512 * 256, Duration = TimeSpan.FromSeconds(5) };

            var refused = await Assert.ThrowsAsync<AttachException>(() => QemuAttach.RunAsync(options, [new QemuAttachTarget(socket)], stop: ct, cancellationToken: ct));

            Assert.Contains("no balloon device", refused.Message, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', refused.Message);
            Assert.False(qemu.HasExited);
        }
        finally
        {
            qemu.Kill();
            await qemu.WaitForExitAsync(CancellationToken.None);
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Process StartUserQemu(string kernel, string initrd, string socket, bool balloon)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[
            "-name", "user-guest", "-accel", "tcg,tb-size=32", "-M", "pc", "-m", "256", "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-monitor", "none", "-no-reboot",
            "-kernel", kernel, "-initrd", initrd,
            "-append", "console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check memvisor.mode=idle memvisor.alloc_mib=96 memvisor.fill=unique",
            "-qmp", $"unix:{socket},server=on,wait=off",
            .. balloon ? (string[])["-device", "virtio-balloon-pci,id=balloon0,free-page-reporting=on"] : [],
            ])
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    private static async Task<QmpClient> ConnectWhenReadyAsync(string socket, CancellationToken ct)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                return await QmpClient.ConnectAsync(socket, cancellationToken: ct);
            }
            catch (QmpConnectionClosedException) when (i < 200)
            {
                await Task.Delay(50, ct);
            }
        }
    }
}
